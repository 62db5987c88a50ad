/**
 * `SAM2ImagePredictor`'s geometry and output rules (image mode), on the host:
 * - prompts: original pixels -> the 1024 frame with TWO scales, `x·1024/W`, `y·1024/H` (no aspect
 *   ratio kept; float32 like torch: `(x / W) * 1024`);
 * - which mask tokens a call returns (`selectSam2Masks`): multimask -> tokens 1..3 in order; single
 *   mask -> token 0 unless its stability score is below the threshold, then the token of 1..3 with
 *   the highest predicted IoU, mask and IoU together (`dynamic_multimask_via_stability`, eval only);
 * - original-size logits: bilinear (align_corners false) straight from the UNCLAMPED low-res logits
 *   to (H,W), no crop (`sam2OriginalSizeMasks`); the returned low-res logits are clamped to ±32.
 */
import type { FloatTensor, Ops } from '@samtune/tensor';
import { floatTensor } from '@samtune/tensor';
import { FrameGeometryError } from '../postprocess.js';
import { IMAGE_SIZE } from '../config.js';
import type { Sam2DecoderConfig } from './mask-decoder-config.js';

/** `SAM2ImagePredictor` clamps the low-res logits it returns to this magnitude. */
export const SAM2_LOW_RES_CLAMP = 32;

function checkSize(fn: string, size: readonly [number, number]): void {
  if (!size.every((d) => Number.isInteger(d) && d > 0)) {
    throw new FrameGeometryError(`${fn}(originalSize): expected positive integer (H,W), got (${size.join(',')})`);
  }
}

/**
 * Official `SAM2Transforms.transform_coords(normalize=True)`: flat XY pairs in original pixels ->
 * the `resolution` frame, `x / W * resolution`, `y / H * resolution`, in float32. Boxes are XYXY
 * pairs too (`transform_boxes`).
 */
export function sam2ApplyCoords(
  coords: ArrayLike<number>,
  originalSize: readonly [number, number],
  resolution = IMAGE_SIZE,
): Float32Array {
  if (coords.length % 2 !== 0) {
    throw new FrameGeometryError(
      `sam2ApplyCoords(coords): expected XY pairs (even length), got ${coords.length} numbers`,
    );
  }
  checkSize('sam2ApplyCoords', originalSize);
  const [h, w] = originalSize;
  const f = Math.fround;
  return Float32Array.from(coords, (v, i) => f(f(f(v) / (i % 2 === 0 ? w : h)) * resolution));
}

/**
 * SAM 2's stability score of one mask's logits: `#(logit > delta) / #(logit > -delta)`, 1 when the
 * second count is 0.
 */
export function sam2StabilityScore(logits: ArrayLike<number>, delta: number): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i] as number;
    if (v > delta) inter++;
    if (v > -delta) union++;
  }
  return union > 0 ? Math.fround(inter / union) : 1;
}

/** What `selectSam2Masks` returns: `M` = 3 (multimask) or 1. */
export interface Sam2Selection {
  /** `[B,M,h,w]` selected low-res logits (unclamped). */
  readonly masks: FloatTensor;
  /** `[B,M]` their predicted IoU. */
  readonly iou: FloatTensor;
  /** Per prompt, the mask token of each returned mask (0..3). */
  readonly tokens: number[][];
  /** Per prompt, token 0's stability score (single-mask calls with the fallback on; else empty). */
  readonly stability: number[];
}

/**
 * Official `MaskDecoder.forward`'s choice among the four tokens, on host tensors.
 * @param masks `[B,4,h,w]` all tokens' logits; `iou` `[B,4]`
 * @param dynamic apply the stability fallback to single-mask calls (the predictor: true; training: false)
 */
export function selectSam2Masks(
  cfg: Pick<Sam2DecoderConfig, 'maskDecoder'>,
  masks: FloatTensor,
  iou: FloatTensor,
  multimask: boolean,
  dynamic = true,
): Sam2Selection {
  const [b, t, h, w] = masks.shape as [number, number, number, number];
  if (masks.shape.length !== 4 || t !== 4 || iou.shape.length !== 2 || iou.shape[0] !== b || iou.shape[1] !== 4) {
    throw new FrameGeometryError(
      `selectSam2Masks(masks, iou): expected [B,4,h,w] and [B,4], got [${masks.shape.join(',')}] and [${iou.shape.join(',')}]`,
    );
  }
  const plane = h * w;
  const tokens: number[][] = [];
  const stability: number[] = [];
  for (let i = 0; i < b; i++) {
    if (multimask) {
      tokens.push([1, 2, 3]);
      continue;
    }
    if (!dynamic) {
      tokens.push([0]);
      continue;
    }
    const score = sam2StabilityScore(
      masks.data.subarray(i * 4 * plane, (i * 4 + 1) * plane),
      cfg.maskDecoder.dynamicMultimaskStabilityDelta,
    );
    stability.push(score);
    let best = 1;
    for (let k = 2; k < 4; k++) if ((iou.data[i * 4 + k] as number) > (iou.data[i * 4 + best] as number)) best = k;
    tokens.push([score >= Math.fround(cfg.maskDecoder.dynamicMultimaskStabilityThresh) ? 0 : best]);
  }
  const m = multimask ? 3 : 1;
  const outMasks = new Float32Array(b * m * plane);
  const outIou = new Float32Array(b * m);
  tokens.forEach((row, i) =>
    row.forEach((tok, j) => {
      outMasks.set(masks.data.subarray((i * 4 + tok) * plane, (i * 4 + tok + 1) * plane), (i * m + j) * plane);
      outIou[i * m + j] = iou.data[i * 4 + tok] as number;
    }),
  );
  return { masks: floatTensor(outMasks, [b, m, h, w]), iou: floatTensor(outIou, [b, m]), tokens, stability };
}

/** `t` clamped to `[-limit, limit]` (a copy). */
export function clampLogits(t: FloatTensor, limit = SAM2_LOW_RES_CLAMP): FloatTensor {
  return floatTensor(
    t.data.map((v) => Math.min(limit, Math.max(-limit, v))),
    t.shape,
  );
}

/**
 * Official `SAM2Transforms.postprocess_masks` (no hole filling): `lowRes [B,M,256,256]` UNCLAMPED
 * logits -> bilinear (align_corners false) straight to `originalSize` (H,W). Returns `[B,M,H,W]`.
 */
export function sam2OriginalSizeMasks<T>(ops: Ops<T>, lowRes: T, originalSize: readonly [number, number]): T {
  checkSize('sam2OriginalSizeMasks', originalSize);
  const s = ops.shape(lowRes);
  if (s.length !== 4) {
    throw new FrameGeometryError(`sam2OriginalSizeMasks(lowRes): expected [B,M,256,256], got [${s.join(',')}]`);
  }
  return ops.resizeBilinear(lowRes, [originalSize[0], originalSize[1]]);
}
