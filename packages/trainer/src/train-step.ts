/**
 * One decoder forward + loss + backward on a micro-batch of prompts of ONE image, and gradient
 * accumulation over micro-batches. Only the mask decoder's variables receive gradients; the prompt
 * encoder's tensors are frozen constants inside `SamPredictor` and the image embedding is an input.
 *
 * Loss: `samLossOn` of @samtune/losses (20 * focal + dice + IoU-MSE, per mask, averaged) on the decoder's
 * `[B,1,256,256]` low-res logits against `[B,1,256,256]` binary targets (the original mask area-
 * downsampled into the low-res frame, `maskToLowRes`). Multimask prompts (one point, no box) train
 * the output with the lowest loss (see `prompt-policy.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { samLossOn, type SamLossConfig } from '@samtune/losses';
import type { SamPredictor } from '@samtune/sam-model';
import { useMultimask } from './prompt-policy.js';
import { TrainStepError, type DecoderPromptBatch, type LossParts } from './engine/types.js';
export { TrainStepError, type DecoderPromptBatch, type LossParts } from './engine/types.js';

/** Tensors of `decoderLoss` (owned by the enclosing `tf.tidy` / `tf.variableGrads`). */
export interface DecoderLossResult {
  readonly loss: tf.Scalar;
  readonly focal: tf.Scalar;
  readonly dice: tf.Scalar;
  readonly iou: tf.Scalar;
  /** `[B,1,256,256]` logits of the trained output (token 0, or the best of 3). */
  readonly lowResMasks: tf.Tensor;
  /** `[B,1]` predicted IoU of the trained output. */
  readonly iouPredictions: tf.Tensor;
  /** `[B,M,256,256]` logits of every output (M = 3 multimask, else 1); `recipe/simulated-clicks.ts`. */
  readonly allMasks: tf.Tensor;
  /** `[B,M]` predicted IoU of every output. */
  readonly allIou: tf.Tensor;
}

/** Per-pass hooks of `decoderLoss` (the training recipe, `recipe/`). */
export interface DecoderPassOptions {
  /** `[B,1,256,256]` mask-input logits (SAM's `mask_input`); absent = the no-mask embedding. */
  readonly maskInput?: tf.Tensor;
  /** Maps `[B,M,256,256]` logits to the targets' frame before the loss (`loss.resolution original`). */
  readonly toLossFrame?: (masks: tf.Tensor) => tf.Tensor;
}

function check(batch: DecoderPromptBatch, targets: tf.Tensor): void {
  const b = batch.size;
  const n = batch.numPoints;
  const bad = (what: string, want: number, got: number | undefined): never => {
    throw new TrainStepError(
      `decoderLoss(batch): ${what} must have ${want} values for ${b} prompts, got ${got ?? 'none'}`,
    );
  };
  if (batch.boxes && batch.boxes.length !== b * 4) bad('boxes [B,4]', b * 4, batch.boxes.length);
  if (n > 0 && batch.coords?.length !== b * n * 2) bad(`coords [B,${n},2]`, b * n * 2, batch.coords?.length);
  if (n > 0 && batch.labels?.length !== b * n) bad(`labels [B,${n}]`, b * n, batch.labels?.length);
  if (!batch.boxes && n === 0)
    throw new TrainStepError('decoderLoss(batch): a prompt batch needs boxes or points, got neither');
  const ts = targets.shape;
  if (ts.length !== 4 || ts[0] !== b || ts[1] !== 1) {
    throw new TrainStepError(`decoderLoss(targets): expected [${b},1,256,256], got [${ts.join(',')}]`);
  }
}

/**
 * Forward and loss of a micro-batch. Not tidied: call inside `tf.tidy` or `tf.variableGrads`.
 * @param embedding `[1,256,64,64]` image embedding of the image the prompts belong to
 * @param targets `[B,1,256,256]` 0/1 low-res targets
 */
export function decoderLoss(
  predictor: SamPredictor,
  embedding: tf.Tensor,
  batch: DecoderPromptBatch,
  targets: tf.Tensor,
  lossConfig: SamLossConfig = {},
  pass: DecoderPassOptions = {},
): DecoderLossResult {
  check(batch, targets);
  const b = batch.size;
  const n = batch.numPoints;
  const multimask = useMultimask({ hasBox: batch.boxes !== undefined, numPoints: n });
  const { masks, iou } = predictor.decode(
    embedding,
    {
      ...(batch.boxes ? { boxes: tf.tensor(batch.boxes, [b, 4]) } : {}),
      ...(n > 0
        ? {
            coords: tf.tensor(batch.coords as Float32Array, [b, n, 2]),
            labels: tf.tensor(batch.labels as Float32Array, [b, n]),
          }
        : {}),
      ...(pass.maskInput ? { masks: pass.maskInput } : {}),
    },
    multimask,
  );
  const lossMasks = pass.toLossFrame ? pass.toLossFrame(masks) : masks;
  // the one loss definition (@samtune/losses), on this predictor's tfjs executor
  const r = samLossOn(predictor.ops, lossMasks, iou, targets, lossConfig);
  const [loss, focal, dice, iouLoss] = [r.loss, r.focal, r.dice, r.iou] as tf.Scalar[] as [
    tf.Scalar,
    tf.Scalar,
    tf.Scalar,
    tf.Scalar,
  ];
  const parts = { loss, focal, dice, iou: iouLoss, allMasks: masks, allIou: iou };
  if (!r.pick) return { ...parts, lowResMasks: masks, iouPredictions: iou };
  // best of M by loss (a constant one-hot: no gradient through the choice)
  const m = masks.shape[1] as number;
  const chosenMasks = tf.sum(tf.mul(masks, tf.reshape(r.pick, [b, m, 1, 1])), 1, true);
  return { ...parts, lowResMasks: chosenMasks, iouPredictions: tf.reshape(tf.sum(tf.mul(iou, r.pick), 1), [b, 1]) };
}

/** The loss `microBatchGradients` differentiates (default `decoderLoss`; the recipe's in `recipe/`). */
export type MicroBatchLoss = (
  predictor: SamPredictor,
  embedding: tf.Tensor,
  batch: DecoderPromptBatch,
  targets: tf.Tensor,
  lossConfig: SamLossConfig,
) => Pick<DecoderLossResult, 'loss' | 'focal' | 'dice' | 'iou'>;

/** Gradients of one micro-batch, keyed by checkpoint key (`mask_decoder.…`). */
export interface MicroBatchGradients {
  /** Gradients of `scale * loss`; the caller owns (and disposes) them. */
  readonly grads: Map<string, tf.Tensor>;
  /** Unscaled loss parts of this micro-batch. */
  readonly parts: LossParts;
}

/**
 * Forward + backward of one micro-batch. The loss is multiplied by `scale` before differentiation
 * (use `B_micro / B_total` so that accumulated gradients are those of the mean over the whole batch).
 */
export function microBatchGradients(
  predictor: SamPredictor,
  embedding: tf.Tensor,
  batch: DecoderPromptBatch,
  targets: tf.Tensor,
  scale = 1,
  lossConfig: SamLossConfig = {},
  lossFn: MicroBatchLoss = decoderLoss,
): MicroBatchGradients {
  const vars = predictor.trainableVariables();
  return variableGradsByKey(
    vars,
    () => lossFn(predictor, embedding, batch, targets, lossConfig),
    ['loss', 'focal', 'dice', 'iou'],
    scale,
    'microBatchGradients',
  );
}

/**
 * `tf.variableGrads` of `scale * f().loss` with respect to `vars`: the gradients by their map key
 * (the caller owns them) and the named scalar parts of `f()` read on the host (unscaled).
 * @param fn caller name for messages
 */
export function variableGradsByKey<K extends string>(
  vars: ReadonlyMap<string, tf.Variable>,
  f: () => Record<K | 'loss', tf.Tensor>,
  partNames: readonly K[],
  scale: number,
  fn: string,
): { grads: Map<string, tf.Tensor>; parts: Record<K, number> } {
  const keyOf = new Map([...vars].map(([k, v]) => [v.name, k]));
  const parts = Object.fromEntries(partNames.map((k) => [k, Number.NaN])) as Record<K, number>;
  const { value, grads } = tf.variableGrads(() => {
    const r = f();
    for (const k of partNames) parts[k] = r[k].dataSync()[0] as number;
    return (scale === 1 ? r.loss : tf.mul(r.loss, scale)) as tf.Scalar;
  }, [...vars.values()]);
  value.dispose();
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of Object.entries(grads)) {
    const key = keyOf.get(name);
    if (key === undefined)
      throw new TrainStepError(`${fn}(): gradient for variable '${name}' that is not a mask-decoder variable`);
    out.set(key, g);
  }
  return { grads: out, parts };
}

/** Sums gradients over micro-batches; `take()` hands the sums over and starts again. */
export class GradientAccumulator {
  private sums = new Map<string, tf.Tensor>();

  /** Adds (and disposes) `grads`. */
  add(grads: Map<string, tf.Tensor>): void {
    for (const [key, g] of grads) {
      const prev = this.sums.get(key);
      if (prev) {
        this.sums.set(key, tf.add(prev, g));
        prev.dispose();
        g.dispose();
      } else {
        this.sums.set(key, g);
      }
    }
  }

  /** True when nothing was added since the last `take()`. */
  get empty(): boolean {
    return this.sums.size === 0;
  }

  /** The summed gradients (the caller disposes them); the accumulator is empty afterwards. */
  take(): Record<string, tf.Tensor> {
    const out = Object.fromEntries(this.sums);
    this.sums = new Map();
    return out;
  }

  /** Frees whatever was accumulated. */
  dispose(): void {
    for (const g of this.sums.values()) g.dispose();
    this.sums.clear();
  }
}
