/**
 * Iterative simulated clicks (`prompt.iterations N`), the interactive training of the SAM paper
 * (§A "Training algorithm") and micro-sam's `SamTrainer`:
 *
 * 1. Pass 0 decodes the prompt as built (box or points), without a mask input.
 * 2. After each pass, per prompt, the output with the highest PREDICTED IoU (SAM: "the mask passed to
 *    the next iteration ... is the one with the highest predicted IoU"; a single-output pass has one)
 *    is compared, thresholded at logit 0, with the low-res target inside the resized image's part of
 *    the 256x256 frame. ONE click is drawn UNIFORMLY at random (seeded) from the error region, the
 *    union of false negatives and false positives (SAM: "selected uniformly from the error region");
 *    it is positive (label 1) in a false negative, negative (label 0) in a false positive. When the
 *    prediction has no error, the click is SAM's padding point (label -1, ignored by the model), so
 *    every prompt of a micro-batch keeps the same number of points.
 * 3. The click is appended to the prompt's points (1024 frame: low-res pixel `(x,y)` is the centre of
 *    its 4x4 block, `4x + 1.5`, since the prompt encoder adds the half-pixel shift) and the chosen
 *    low-res logits become the next pass's `mask_input [B,1,256,256]`, unthresholded (SAM: "we
 *    provide the unthresholded mask logits") and DETACHED (a constant, like micro-sam's `no_grad`
 *    prompt update: no gradient flows from a pass into the previous one).
 * 4. Passes 1..N decode with the new points and the mask input. Which output trains follows the usual
 *    rule (`useMultimask`): with two or more points, or a box, the single-mask token 0.
 *
 * The loss is the MEAN over the `N + 1` passes of each pass's loss (micro-sam: the sum over
 * sub-iterations divided by their number), and so are the reported parts.
 */
import * as tf from '@tensorflow/tfjs';
import { LOW_RES_SIZE, type ResizeGeometry, type Rng } from '@samtune/transforms';
import type { SamLossConfig } from '@samtune/losses';
import type { SamPredictor } from '@samtune/sam-model';
import type { DecoderPromptBatch } from '@samtune/training-data';
import { decoderLoss } from '../train-step.js';
import { nextClickPass, SimulatedClickError, type ErrorClick } from './clicks.js';
export {
  appendClicks,
  bestByPredictedIou,
  clickToModel,
  lowResValidSize,
  nextClickPass,
  sampleErrorClick,
  SimulatedClickError,
  type ErrorClick,
} from './clicks.js';

/** Options of `iterativeDecoderLoss`. */
export interface IterativeLossOptions {
  /** N, extra passes (0 = the plain single pass). */
  readonly iterations: number;
  /** `[B*256*256]` 0/1 low-res targets (the click's error region is taken in the low-res frame). */
  readonly lowResTargets: ArrayLike<number>;
  /** The image's frame (the padding of the low-res frame, the 1024 frame of the clicks). */
  readonly geometry: ResizeGeometry;
  /** Draws the clicks (one `int` per prompt and pass with an error region). */
  readonly rng: Rng;
  /** `decoderLoss`'s `toLossFrame` (loss.resolution original), the same on every pass. */
  readonly toLossFrame?: (masks: tf.Tensor) => tf.Tensor;
  /** Receives each pass's clicks (for tests and logs). */
  readonly onClicks?: (pass: number, clicks: readonly ErrorClick[]) => void;
}

/** Mean loss and parts over the passes (scalars of the enclosing `tf.tidy` / `tf.variableGrads`). */
export interface IterativeLossResult {
  readonly loss: tf.Scalar;
  readonly focal: tf.Scalar;
  readonly dice: tf.Scalar;
  readonly iou: tf.Scalar;
  /** Number of decoder passes (`iterations + 1`). */
  readonly passes: number;
}

/**
 * `1 + iterations` decoder passes with simulated clicks (see the module comment); the loss is the
 * mean over passes. Not tidied: call inside `tf.tidy` or `tf.variableGrads`.
 * @param targets `[B,1,256,256]`, or `[B,1,H,W]` with `toLossFrame`
 */
export function iterativeDecoderLoss(
  predictor: SamPredictor,
  embedding: tf.Tensor,
  batch: DecoderPromptBatch,
  targets: tf.Tensor,
  lossConfig: SamLossConfig,
  options: IterativeLossOptions,
): IterativeLossResult {
  const { iterations, lowResTargets, geometry, rng, toLossFrame, onClicks } = options;
  if (!Number.isInteger(iterations) || iterations < 0) {
    throw new SimulatedClickError(
      `iterativeDecoderLoss(options.iterations): expected an integer >= 0, got ${iterations}`,
    );
  }
  const b = batch.size;
  const plane = LOW_RES_SIZE * LOW_RES_SIZE;
  if (lowResTargets.length !== b * plane) {
    throw new SimulatedClickError(
      `iterativeDecoderLoss(options.lowResTargets): expected [${b},256,256] = ${b * plane} values, got ${lowResTargets.length}`,
    );
  }
  const sums: { loss: tf.Tensor[]; focal: tf.Tensor[]; dice: tf.Tensor[]; iou: tf.Tensor[] } = {
    loss: [],
    focal: [],
    dice: [],
    iou: [],
  };
  let current = batch;
  let maskInput: tf.Tensor | undefined;
  for (let pass = 0; pass <= iterations; pass++) {
    const r = decoderLoss(predictor, embedding, current, targets, lossConfig, {
      ...(maskInput ? { maskInput } : {}),
      ...(toLossFrame ? { toLossFrame } : {}),
    });
    sums.loss.push(r.loss);
    sums.focal.push(r.focal);
    sums.dice.push(r.dice);
    sums.iou.push(r.iou);
    if (pass === iterations) break;
    const m = r.allMasks.shape[1] as number;
    const next = nextClickPass(current, r.allMasks.dataSync() as Float32Array, r.allIou.dataSync(), m, {
      lowResTargets,
      geometry,
      rng,
    });
    onClicks?.(pass, next.clicks);
    current = next.batch;
    maskInput = tf.tensor4d(next.maskInput, [b, 1, LOW_RES_SIZE, LOW_RES_SIZE]); // host copy: detached
  }
  const mean = (xs: tf.Tensor[]): tf.Scalar =>
    (xs.length === 1 ? (xs[0] as tf.Scalar) : tf.div(tf.addN(xs), xs.length)) as tf.Scalar;
  return {
    loss: mean(sums.loss),
    focal: mean(sums.focal),
    dice: mean(sums.dice),
    iou: mean(sums.iou),
    passes: iterations + 1,
  };
}
