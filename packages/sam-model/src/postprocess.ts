/**
 * Frame geometry of the official predictor (`utils/transforms.py` ResizeLongestSide and
 * `Sam.postprocess_masks`): original image pixels <-> the 1024 input frame, and mask logits from the
 * decoder's 256x256 back to the original image size.
 */
import { getPreprocessShape, ResizeGeometry } from '@samtune/transforms';
import { IMAGE_SIZE } from './config.js';
import type { Ops } from '@samtune/tensor';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown for sizes or coordinates that are not usable (non-positive sizes, odd-length coords). */
export class FrameGeometryError extends SamtuneError {
  readonly code: string = 'frame-geometry';
  readonly kind: ErrorKind = 'input';
}

function checkSize(fn: string, arg: string, size: readonly [number, number]): void {
  if (!size.every((d) => Number.isInteger(d) && d > 0)) {
    throw new FrameGeometryError(`${fn}(${arg}): expected positive integer (H,W), got (${size.join(',')})`);
  }
}

/**
 * Official `ResizeLongestSide.get_preprocess_shape`: the (H,W) of the image resized so its longest
 * side is `longSide`: `scale = longSide / max(H,W)`, each side `int(side * scale + 0.5)`.
 */
export function preprocessShape(originalSize: readonly [number, number], longSide = IMAGE_SIZE): [number, number] {
  checkSize('preprocessShape', 'originalSize', originalSize);
  return getPreprocessShape(originalSize[0], originalSize[1], longSide);
}

/**
 * Official `ResizeLongestSide.apply_coords`: XY pairs (flat `[x0,y0,x1,y1,…]`) in original pixels ->
 * the 1024 input frame. Note the official scale is per axis, `new_w / W` for X and `new_h / H` for Y
 * (with the rounded resized size), not exactly `1024 / max(H,W)` on the short side. Computed in
 * float64 like numpy, returned as float32 (what the predictor hands to torch).
 */
export function applyCoords(
  coords: ArrayLike<number>,
  originalSize: readonly [number, number],
  longSide = IMAGE_SIZE,
): Float32Array {
  if (coords.length % 2 !== 0) {
    throw new FrameGeometryError(`applyCoords(coords): expected XY pairs (even length), got ${coords.length} numbers`);
  }
  checkSize('applyCoords', 'originalSize', originalSize);
  // transforms' reversible geometry, per-axis scale (its default) = the official apply_coords
  return new ResizeGeometry(originalSize, longSide).pointsToModel(coords);
}

/** Official `ResizeLongestSide.apply_boxes`: XYXY boxes (flat, 4 per box) -> the 1024 frame. */
export function applyBoxes(
  boxes: ArrayLike<number>,
  originalSize: readonly [number, number],
  longSide = IMAGE_SIZE,
): Float32Array {
  if (boxes.length % 4 !== 0) {
    throw new FrameGeometryError(
      `applyBoxes(boxes): expected XYXY boxes (length multiple of 4), got ${boxes.length} numbers`,
    );
  }
  return applyCoords(boxes, originalSize, longSide);
}

/**
 * Official `Sam.postprocess_masks`: `lowRes [B,M,256,256]` logits -> bilinear (align_corners false)
 * to `imgSize x imgSize`, crop the padding to `inputSize` (the resized image's (h,w)), bilinear to
 * `originalSize` (H,W). Returns `[B,M,H,W]` logits (threshold at `maskThreshold` 0 for binary masks).
 */
export function postprocessMasks<T>(
  ops: Ops<T>,
  lowRes: T,
  inputSize: readonly [number, number],
  originalSize: readonly [number, number],
  imgSize = IMAGE_SIZE,
): T {
  checkSize('postprocessMasks', 'inputSize', inputSize);
  checkSize('postprocessMasks', 'originalSize', originalSize);
  if (inputSize[0] > imgSize || inputSize[1] > imgSize) {
    throw new FrameGeometryError(
      `postprocessMasks(inputSize): (${inputSize.join(',')}) exceeds the ${imgSize} input frame`,
    );
  }
  const s = ops.shape(lowRes);
  if (s.length !== 4) {
    throw new FrameGeometryError(`postprocessMasks(lowRes): expected [B,M,256,256], got [${s.join(',')}]`);
  }
  let x = ops.resizeBilinear(lowRes, [imgSize, imgSize]);
  x = ops.slice(ops.slice(x, 2, 0, inputSize[0]), 3, 0, inputSize[1]);
  return ops.resizeBilinear(x, [originalSize[0], originalSize[1]]);
}
