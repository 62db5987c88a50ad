/**
 * The host side of simulated clicks (`simulated-clicks.ts` has the algorithm): which output a pass
 * hands on, where the next click goes, and the prompt batch with it. Executor-free, so that both
 * training engines use it.
 */
import { LOW_RES_SIZE, samplePositivePoints, type ResizeGeometry, type Rng } from '@samtune/transforms';
import type { DecoderPromptBatch } from '@samtune/training-data';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown for click-sampling inputs of inconsistent sizes. */
export class SimulatedClickError extends SamtuneError {
  readonly code: string = 'simulated-click';
  readonly kind: ErrorKind = 'input';
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

/**
 * After a decoder pass: per prompt, the output with the highest predicted IoU (`maskInput`, the next
 * pass's detached `mask_input [B*256*256]`), one click in its error region against the low-res
 * target, and the batch with the click appended.
 * @param masks `[B,M,256,256]` logits of the pass; `iou` `[B,M]`
 */
export function nextClickPass(
  batch: DecoderPromptBatch,
  masks: Float32Array,
  iou: ArrayLike<number>,
  m: number,
  o: { readonly lowResTargets: ArrayLike<number>; readonly geometry: ResizeGeometry; readonly rng: Rng },
): { batch: DecoderPromptBatch; maskInput: Float32Array; clicks: ErrorClick[] } {
  const b = batch.size;
  const plane = LOW_RES_SIZE * LOW_RES_SIZE;
  const valid = lowResValidSize(o.geometry);
  const low = bestByPredictedIou(masks, iou, b, m);
  const coords = new Float32Array(b * 2);
  const labels = new Float32Array(b);
  const clicks: ErrorClick[] = [];
  for (let i = 0; i < b; i++) {
    const click = sampleErrorClick(
      low.subarray(i * plane, (i + 1) * plane),
      sliceOf(o.lowResTargets, i * plane, (i + 1) * plane),
      valid,
      o.rng,
    );
    clicks.push(click);
    coords.set(clickToModel(click, o.geometry.targetLength), i * 2);
    labels[i] = click.label;
  }
  return { batch: appendClicks(batch, coords, labels), maskInput: low, clicks };
}

function sliceOf(xs: ArrayLike<number>, from: number, to: number): ArrayLike<number> {
  if (ArrayBuffer.isView(xs)) return (xs as unknown as Float32Array).subarray(from, to);
  return Array.prototype.slice.call(xs, from, to) as number[];
}
