/**
 * SAM's `ResizeLongestSide` for images: the target size rule and the PIL-exact bilinear resize.
 */
import type { RgbImage } from './image-io.js';
import { resizePil } from './resample.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** SAM's image encoder input side (the 1024 frame). */
export const SAM_IMAGE_SIZE = 1024;

/** Thrown for a size that is not a positive integer. */
export class ImageSizeError extends SamtuneError {
  readonly code: string = 'image-size';
  readonly kind: ErrorKind = 'input';
}

/**
 * `ResizeLongestSide.get_preprocess_shape`: the `(h,w)` that an `(H,W)` image is resized to so that its
 * longest side is `longSide`: `scale = longSide / max(H,W)`, `h = int(H*scale + 0.5)`,
 * `w = int(W*scale + 0.5)`.
 * @returns `[h, w]`
 */
export function getPreprocessShape(oldH: number, oldW: number, longSide = SAM_IMAGE_SIZE): [number, number] {
  for (const [arg, v] of [
    ['oldH', oldH],
    ['oldW', oldW],
    ['longSide', longSide],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) {
      throw new ImageSizeError(`getPreprocessShape(${arg}): expected a positive integer, got ${v}`);
    }
  }
  const scale = longSide / Math.max(oldH, oldW);
  return [Math.trunc(oldH * scale + 0.5), Math.trunc(oldW * scale + 0.5)];
}

/**
 * Resizes an RGB image so that its longest side is `longSide` (default 1024), keeping the aspect
 * ratio (`getPreprocessShape`), with Pillow's antialiased bilinear filter bit for bit — the official
 * `ResizeLongestSide.apply_image`. No normalisation, no padding.
 * @returns `(h, w, 3)` with `max(h, w) === longSide`.
 */
export function resizeLongestSide(img: RgbImage, longSide = SAM_IMAGE_SIZE): RgbImage {
  const [h, w] = getPreprocessShape(img.height, img.width, longSide);
  return resizePil(img, w, h);
}
