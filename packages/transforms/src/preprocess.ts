/**
 * The whole official image preprocessing in one call: resize longest side (PIL bilinear), normalise,
 * zero-pad to the square, with the geometry to map prompts and masks.
 */
import { ResizeGeometry } from './geometry.js';
import type { RgbImage } from './image-io.js';
import { normalizeAndPad } from './normalize.js';
import { resizeLongestSide, SAM_IMAGE_SIZE } from './resize.js';

/** SAM's `pixel_mean` (RGB, 0–255 scale). */
export const SAM_PIXEL_MEAN: readonly [number, number, number] = [123.675, 116.28, 103.53];
/** SAM's `pixel_std` (RGB, 0–255 scale). */
export const SAM_PIXEL_STD: readonly [number, number, number] = [58.395, 57.12, 57.375];

/** Result of `preprocessImage`. */
export interface PreprocessedImage {
  /** Float32 `[1,3,1024,1024]` NCHW: normalised image at the top-left, zeros elsewhere. */
  readonly tensor: Float32Array;
  /** `(h,w)` of the resized image inside the square. */
  readonly inputSize: readonly [number, number];
  /** `(H,W)` of the original image. */
  readonly originalSize: readonly [number, number];
  /** Maps points, boxes and masks between the original and the model frame. */
  readonly geometry: ResizeGeometry;
}

/**
 * `resizeLongestSide` → `normalizeAndPad`, as `SamPredictor.set_image` + `Sam.preprocess` do.
 * @param img ORIGINAL RGB image `(H,W,3)`.
 */
export function preprocessImage(
  img: RgbImage,
  mean: readonly [number, number, number] = SAM_PIXEL_MEAN,
  std: readonly [number, number, number] = SAM_PIXEL_STD,
  targetLength = SAM_IMAGE_SIZE,
): PreprocessedImage {
  const geometry = ResizeGeometry.forSize(img, targetLength);
  const resized = resizeLongestSide(img, targetLength);
  const tensor = normalizeAndPad(resized, mean, std, targetLength);
  return { tensor, inputSize: geometry.inputSize, originalSize: geometry.originalSize, geometry };
}
