/**
 * `SamPredictor` on tfjs: the official predictor's prompt path (`predictor.py` `predict` /
 * `predict_torch`) for a precomputed image embedding. Prompts are in ORIGINAL image pixels and are
 * moved to the 1024 frame with the official `ResizeLongestSide.apply_coords`.
 *
 * The predictor owns tfjs copies of the prompt-encoder weights (frozen tensors) and of the
 * mask-decoder weights (`tf.Variable`s, trainable by default) so a trainer can optimise them in place
 * (`trainableVariables()`, `decode()` inside `tf.variableGrads`). Call `dispose()` when done.
 */
import * as tf from '@tensorflow/tfjs';
import type { SamConfig } from './config.js';
import { LOW_RES_SIZE, type Box, type Point } from '@samtune/transforms';
import { MASK_DECODER_PREFIX, maskDecoder } from './mask-decoder.js';
import { TfjsOps } from './ops/tfjs-ops.js';
import { applyBoxes, applyCoords, postprocessMasks, preprocessShape } from './postprocess.js';
import { PROMPT_ENCODER_PREFIX, densePe, preparePromptEncoderWeights, promptEncoder } from './prompt-encoder.js';
import type { FloatTensor, HostTensor, WeightMap } from '@samtune/tensor';
import { floatTensor, toFloat32 } from '@samtune/tensor';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown for prompts or embeddings the predictor cannot use; the message names the argument. */
export class PredictorInputError extends SamtuneError {
  readonly code: string = 'predictor-input';
  readonly kind: ErrorKind = 'input';
}

/** XY point and XYXY box in original image pixels (transforms' types). */
export type { Point, Box } from '@samtune/transforms';

/** Prompts of one `predict` call, in ORIGINAL image pixels. */
export interface PredictPrompts {
  readonly points?: readonly Point[];
  /** One label per point: 1 foreground, 0 background. */
  readonly labels?: readonly number[];
  readonly box?: Box;
  /** `[1,256,256]` low-res logits of an earlier prediction (its `lowResMasks` row). */
  readonly maskInput?: FloatTensor;
}

/**
 * The official predictor's checks of `prompts`, shared by both decoder engines.
 * @param fn caller name for messages (`SamPredictor.predict`)
 * @throws PredictorInputError for points and labels of different lengths, or a mask input not `[1,256,256]`
 */
export function checkPredictPrompts(fn: string, prompts: PredictPrompts): void {
  const { points, labels, maskInput } = prompts;
  if ((points === undefined) !== (labels === undefined) || (points && labels && points.length !== labels.length)) {
    throw new PredictorInputError(
      `${fn}(prompts): points and labels must come together with equal lengths, got ${points?.length ?? 'no'} points and ${labels?.length ?? 'no'} labels`,
    );
  }
  if (
    maskInput &&
    (maskInput.shape.length !== 3 ||
      maskInput.shape[0] !== 1 ||
      maskInput.shape[1] !== LOW_RES_SIZE ||
      maskInput.shape[2] !== LOW_RES_SIZE)
  ) {
    throw new PredictorInputError(
      `${fn}(prompts.maskInput): expected [1,${LOW_RES_SIZE},${LOW_RES_SIZE}], got [${maskInput.shape.join(',')}]`,
    );
  }
}

export interface PredictOptions {
  /** Three masks (tokens 1..3) instead of one (token 0). Default true, like the official predictor. */
  readonly multimask?: boolean;
  /** Also compute `masks` at original size (the costlier part). Default true. */
  readonly returnMasks?: boolean;
}

/** Outputs of `predict` (one prompt set): M = 3 with multimask, else 1. */
export interface PredictResult {
  /** `[M,256,256]` low-res logits (feed a row back as `maskInput`). */
  readonly lowResMasks: FloatTensor;
  /** `[M]` predicted IoU. */
  readonly iouPredictions: FloatTensor;
  /** `[M,H,W]` logits at the original size (binary mask: `> maskThreshold`); absent with `returnMasks: false`. */
  readonly masks?: FloatTensor;
}

/** Outputs of `predictBatchBoxes` for B boxes. */
export interface BatchPredictResult {
  /** `[B,M,256,256]`. */
  readonly lowResMasks: FloatTensor;
  /** `[B,M]`. */
  readonly iouPredictions: FloatTensor;
  /** `[B,M,H,W]` logits at the original size. */
  readonly masks?: FloatTensor;
}

/** Prompt tensors for `decode`, in the 1024 frame (already `applyCoords`-transformed). */
export interface TfPrompts {
  /** `[B,N,2]` XY. */
  readonly coords?: tf.Tensor;
  /** `[B,N]` float labels. */
  readonly labels?: tf.Tensor;
  /** `[B,4]` XYXY. */
  readonly boxes?: tf.Tensor;
  /** `[B,1,256,256]` mask logits. */
  readonly masks?: tf.Tensor;
}

export interface SamPredictorOptions {
  readonly config: SamConfig;
  /** Checkpoint weights; only `prompt_encoder.*` and `mask_decoder.*` are used (copied to tfjs). */
  readonly weights: WeightMap;
  /** Create the mask-decoder variables as trainable (default true). */
  readonly trainable?: boolean;
}

function hostData(t: tf.Tensor): FloatTensor {
  return floatTensor(new Float32Array(t.dataSync()), t.shape);
}

export class SamPredictor {
  readonly config: SamConfig;
  /** The executor over this predictor's tensors (for composing the layers directly). */
  readonly ops: TfjsOps;
  private readonly frozen = new Map<string, tf.Tensor>();
  private readonly variables = new Map<string, tf.Variable>();
  private disposed = false;

  constructor({ config, weights, trainable = true }: SamPredictorOptions) {
    this.config = config;
    const derived = preparePromptEncoderWeights(config.promptEncoder, weights);
    const all = new Map<string, tf.Tensor>();
    const upload = (t: HostTensor): tf.Tensor => tf.tensor(toFloat32(t).data, [...t.shape], 'float32');
    for (const [key, t] of [...weights, ...derived]) {
      if (key.startsWith(PROMPT_ENCODER_PREFIX)) {
        const tt = upload(t);
        this.frozen.set(key, tt);
        all.set(key, tt);
      } else if (key.startsWith(MASK_DECODER_PREFIX)) {
        const init = upload(t);
        const v = tf.variable(init, trainable);
        init.dispose();
        this.variables.set(key, v);
        all.set(key, v);
      }
    }
    if (this.variables.size === 0) {
      throw new PredictorInputError(
        `SamPredictor(weights): no '${MASK_DECODER_PREFIX}*' tensors in the weight map (${weights.size} keys)`,
      );
    }
    this.ops = new TfjsOps(all);
  }

  /** The mask-decoder tensors by checkpoint key, as the `tf.Variable`s the forward uses. */
  trainableVariables(): ReadonlyMap<string, tf.Variable> {
    return this.variables;
  }

  /** The current mask-decoder weights copied to host memory (checkpoint keys, `mask_decoder.*`). */
  maskDecoderWeights(): Map<string, FloatTensor> {
    const out = new Map<string, FloatTensor>();
    for (const [key, v] of this.variables) out.set(key, hostData(v));
    return out;
  }

  /** Overwrites mask-decoder variables from `weights` (keys `mask_decoder.*`; same shapes). */
  setMaskDecoderWeights(weights: WeightMap): void {
    for (const [key, t] of weights) {
      const v = this.variables.get(key);
      if (!v) continue;
      if (v.shape.length !== t.shape.length || v.shape.some((d, i) => d !== t.shape[i])) {
        throw new PredictorInputError(
          `setMaskDecoderWeights(weights): '${key}' has shape [${t.shape.join(',')}], expected [${v.shape.join(',')}]`,
        );
      }
      tf.tidy(() => v.assign(tf.tensor(toFloat32(t).data, [...t.shape], 'float32')));
    }
  }

  /**
   * Prompt encoder + mask decoder on tfjs tensors (1024 frame), for training and batching.
   * Points get the official padding point when no box is given. Not wrapped in `tf.tidy`: call it
   * inside `tf.tidy` / `tf.variableGrads`.
   * @param imageEmbeddings `[1,256,64,64]` (broadcast to all prompts) or `[B,256,64,64]`
   * @returns `masks [B,M,256,256]` logits and `iou [B,M]`
   */
  decode(
    imageEmbeddings: tf.Tensor,
    prompts: TfPrompts,
    multimaskOutput: boolean,
  ): { masks: tf.Tensor; iou: tf.Tensor } {
    this.checkAlive('decode');
    const { sparse, dense } = promptEncoder(this.ops, this.config.promptEncoder, {
      ...prompts,
      padPoints: prompts.boxes === undefined,
    });
    return maskDecoder(this.ops, this.config.maskDecoder, {
      imageEmbeddings,
      imagePe: densePe(this.ops),
      sparse,
      dense,
      multimaskOutput,
    });
  }

  /**
   * Official `SamPredictor.predict(point_coords, point_labels, box, mask_input, multimask_output,
   * return_logits=True)` for one prompt set.
   * @param embedding `[1,256,64,64]` image embedding
   * @param originalSize (H,W) of the original image, the frame of the prompts
   */
  predict(
    embedding: FloatTensor,
    prompts: PredictPrompts,
    originalSize: readonly [number, number],
    opts: PredictOptions = {},
  ): PredictResult {
    this.checkAlive('predict');
    const { points, labels, box, maskInput } = prompts;
    checkPredictPrompts('SamPredictor.predict', prompts);
    const r = this.run(embedding, originalSize, opts, 'predict', () => ({
      coords:
        points && points.length > 0
          ? tf.tensor(applyCoords(points.flat(), originalSize), [1, points.length, 2])
          : undefined,
      labels: labels && labels.length > 0 ? tf.tensor(Float32Array.from(labels), [1, labels.length]) : undefined,
      boxes: box ? tf.tensor(applyBoxes(box, originalSize), [1, 4]) : undefined,
      masks: maskInput ? tf.tensor(maskInput.data, [1, 1, LOW_RES_SIZE, LOW_RES_SIZE]) : undefined,
    }));
    const drop0 = (t: FloatTensor): FloatTensor => floatTensor(t.data, t.shape.slice(1));
    return {
      lowResMasks: drop0(r.lowResMasks),
      iouPredictions: drop0(r.iouPredictions),
      ...(r.masks ? { masks: drop0(r.masks) } : {}),
    };
  }

  /**
   * Several boxes decoded in one batch (official `predict_torch` with `boxes [B,4]`), in original
   * pixels. Returns `[B,M,…]` outputs.
   */
  predictBatchBoxes(
    embedding: FloatTensor,
    boxes: readonly Box[],
    originalSize: readonly [number, number],
    opts: PredictOptions = {},
  ): BatchPredictResult {
    this.checkAlive('predictBatchBoxes');
    if (boxes.length === 0)
      throw new PredictorInputError('SamPredictor.predictBatchBoxes(boxes): expected at least one box, got 0');
    return this.run(embedding, originalSize, opts, 'predictBatchBoxes', () => ({
      boxes: tf.tensor(applyBoxes(boxes.flat(), originalSize), [boxes.length, 4]),
    }));
  }

  /** Releases every tfjs tensor and variable this predictor owns. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.frozen.values()) t.dispose();
    for (const v of this.variables.values()) v.dispose();
    this.frozen.clear();
    this.variables.clear();
  }

  private run(
    embedding: FloatTensor,
    originalSize: readonly [number, number],
    opts: PredictOptions,
    fn: string,
    makePrompts: () => TfPrompts,
  ): BatchPredictResult {
    const es = embedding.shape;
    const [h, w] = this.config.promptEncoder.imageEmbeddingSize;
    const c = this.config.promptEncoder.embedDim;
    if (es.length !== 4 || es[0] !== 1 || es[1] !== c || es[2] !== h || es[3] !== w) {
      throw new PredictorInputError(
        `SamPredictor.${fn}(embedding): expected [1,${c},${h},${w}], got [${es.join(',')}]`,
      );
    }
    const inputSize = preprocessShape(originalSize, this.config.imageEncoder.imgSize);
    let result: BatchPredictResult = {
      lowResMasks: floatTensor(new Float32Array(0), [0]),
      iouPredictions: floatTensor(new Float32Array(0), [0]),
    };
    tf.tidy(() => {
      const emb = tf.tensor(embedding.data, [...es], 'float32');
      const { masks: low, iou } = this.decode(emb, makePrompts(), opts.multimask ?? true);
      const full =
        opts.returnMasks === false
          ? undefined
          : postprocessMasks(this.ops, low, inputSize, originalSize, this.config.imageEncoder.imgSize);
      result = {
        lowResMasks: hostData(low),
        iouPredictions: hostData(iou),
        ...(full ? { masks: hostData(full) } : {}),
      };
    });
    return result;
  }

  private checkAlive(fn: string): void {
    if (this.disposed) throw new PredictorInputError(`SamPredictor.${fn}(): the predictor was disposed`);
  }
}
