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
import { LOW_RES_SIZE, samplePositivePoints, type ResizeGeometry, type Rng } from '@samtune/transforms';
import type { SamLossConfig } from '@samtune/losses';
import type { SamPredictor } from '@samtune/sam-model';
import type { DecoderPromptBatch } from '@samtune/evaluation';
import { decoderLoss } from '../train-step.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown for click-sampling inputs of inconsistent sizes. */
export class SimulatedClickError extends SamtuneError {
  readonly code: string = 'simulated-click';
  readonly kind: ErrorKind = 'input';
  override readonly name = 'SimulatedClickError';
}

/** A sampled click: `(x,y)` low-res pixel indices and its label (1 fg, 0 bg, -1 none: no error). */
export interface ErrorClick {
  readonly x: number;
  readonly y: number;
  readonly label: 1 | 0 | -1;
}

/**
 * `(rows, cols)` of the 256x256 frame that hold the resized image (the rest is padding): low-res
 * pixels whose 4x4 block of the 1024 frame meets the `(h,w)` resized image.
 */
export function lowResValidSize(geometry: ResizeGeometry, lowRes = LOW_RES_SIZE): [number, number] {
  const [h, w] = geometry.inputSize;
  const t = geometry.targetLength;
  return [Math.min(lowRes, Math.ceil((h * lowRes) / t)), Math.min(lowRes, Math.ceil((w * lowRes) / t))];
}

/**
 * One click in the error region of `logits` (threshold 0) against `target` (threshold 0.5), both
 * `[S,S]` row-major, restricted to rows `< valid[0]` and columns `< valid[1]`; uniform over the region,
 * drawn with `rng` (one `rng.int` call, none when the region is empty).
 */
export function sampleErrorClick(
  logits: ArrayLike<number>,
  target: ArrayLike<number>,
  valid: readonly [number, number],
  rng: Rng,
  lowRes = LOW_RES_SIZE,
): ErrorClick {
  const n = lowRes * lowRes;
  if (logits.length !== n || target.length !== n) {
    throw new SimulatedClickError(
      `sampleErrorClick(logits, target): expected [${lowRes},${lowRes}] = ${n} values each, got ${logits.length} and ${target.length}`,
    );
  }
  const error = new Uint8Array(n);
  let any = false;
  for (let y = 0; y < valid[0]; y++) {
    for (let x = 0; x < valid[1]; x++) {
      const i = y * lowRes + x;
      const p = (logits[i] as number) > 0;
      const t = (target[i] as number) >= 0.5;
      if (p !== t) {
        error[i] = 1;
        any = true;
      }
    }
  }
  if (!any) return { x: 0, y: 0, label: -1 };
  const [pt] = samplePositivePoints({ width: lowRes, height: lowRes, data: error }, 1, rng);
  const [x, y] = pt as readonly [number, number];
  return { x, y, label: (target[y * lowRes + x] as number) >= 0.5 ? 1 : 0 };
}

/** Low-res pixel `(x,y)` → XY in the model frame (`targetLength / S` per pixel, pixel-index convention). */
export function clickToModel(click: ErrorClick, targetLength: number, lowRes = LOW_RES_SIZE): [number, number] {
  if (click.label === -1) return [0, 0];
  const s = targetLength / lowRes;
  return [(click.x + 0.5) * s - 0.5, (click.y + 0.5) * s - 0.5];
}

/** `batch` with one more point per prompt (`coords [B,2]` model frame, `labels [B]`). */
export function appendClicks(
  batch: DecoderPromptBatch,
  coords: Float32Array,
  labels: Float32Array,
): DecoderPromptBatch {
  const b = batch.size;
  const n = batch.numPoints;
  if (coords.length !== b * 2 || labels.length !== b) {
    throw new SimulatedClickError(
      `appendClicks(coords, labels): expected ${b * 2} and ${b} values for ${b} prompts, got ${coords.length} and ${labels.length}`,
    );
  }
  const c = new Float32Array(b * (n + 1) * 2);
  const l = new Float32Array(b * (n + 1));
  for (let i = 0; i < b; i++) {
    if (n > 0) {
      c.set((batch.coords as Float32Array).subarray(i * n * 2, (i + 1) * n * 2), i * (n + 1) * 2);
      l.set((batch.labels as Float32Array).subarray(i * n, (i + 1) * n), i * (n + 1));
    }
    c.set(coords.subarray(i * 2, i * 2 + 2), (i * (n + 1) + n) * 2);
    l[i * (n + 1) + n] = labels[i] as number;
  }
  return { ...batch, coords: c, labels: l, numPoints: n + 1 };
}

/** Per prompt, the `[S,S]` logits of the output with the highest predicted IoU: `[B*S*S]`. */
export function bestByPredictedIou(
  masks: Float32Array,
  iou: ArrayLike<number>,
  b: number,
  m: number,
  lowRes = LOW_RES_SIZE,
): Float32Array {
  const plane = lowRes * lowRes;
  if (masks.length !== b * m * plane || iou.length !== b * m) {
    throw new SimulatedClickError(
      `bestByPredictedIou(masks, iou): expected ${b * m * plane} and ${b * m} values for [${b},${m}], got ${masks.length} and ${iou.length}`,
    );
  }
  const out = new Float32Array(b * plane);
  for (let i = 0; i < b; i++) {
    let best = 0;
    for (let k = 1; k < m; k++) if ((iou[i * m + k] as number) > (iou[i * m + best] as number)) best = k;
    out.set(masks.subarray((i * m + best) * plane, (i * m + best + 1) * plane), i * plane);
  }
  return out;
}

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
  const valid = lowResValidSize(geometry);
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
    const low = bestByPredictedIou(r.allMasks.dataSync() as Float32Array, r.allIou.dataSync(), b, m);
    const coords = new Float32Array(b * 2);
    const labels = new Float32Array(b);
    const clicks: ErrorClick[] = [];
    for (let i = 0; i < b; i++) {
      const click = sampleErrorClick(
        low.subarray(i * plane, (i + 1) * plane),
        sliceOf(lowResTargets, i * plane, (i + 1) * plane),
        valid,
        rng,
      );
      clicks.push(click);
      coords.set(clickToModel(click, geometry.targetLength), i * 2);
      labels[i] = click.label;
    }
    onClicks?.(pass, clicks);
    current = appendClicks(current, coords, labels);
    maskInput = tf.tensor4d(low, [b, 1, LOW_RES_SIZE, LOW_RES_SIZE]); // host copy: detached
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

function sliceOf(xs: ArrayLike<number>, from: number, to: number): ArrayLike<number> {
  if (ArrayBuffer.isView(xs)) return (xs as unknown as Float32Array).subarray(from, to);
  return Array.prototype.slice.call(xs, from, to) as number[];
}
