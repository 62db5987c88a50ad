/**
 * SAM's pixel normalisation and padding, in the official order: normalise, THEN pad bottom/right
 * with zeros (so padding is 0 after normalisation).
 */
import type { RgbImage } from './image-io.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when an image does not fit the padded square or its buffer has the wrong length. */
export class PadSizeError extends SamtuneError {
  readonly code: string = 'pad-size';
  readonly kind: ErrorKind = 'input';
}

/**
 * `(x - mean) / std` per RGB channel, then zero-pad to `size x size`.
 * Computed in float32 like the official `(x - pixel_mean) / pixel_std` on float32 tensors (each step
 * rounded to float32, so the values are bit-identical to PyTorch's).
 * @param img RGB `(h,w,3)` with `h, w <= size` (already resized, e.g. by `resizeLongestSide`).
 * @returns Float32 `[1,3,size,size]` (NCHW), ready for the image encoder.
 */
export function normalizeAndPad(
  img: RgbImage,
  mean: readonly [number, number, number],
  std: readonly [number, number, number],
  size = 1024,
): Float32Array {
  const { width: w, height: h, data } = img;
  if (w > size || h > size) {
    throw new PadSizeError(
      `normalizeAndPad(img): expected (H,W) <= (${size},${size}), got (${h},${w}); resize it first`,
    );
  }
  if (data.length !== w * h * 3) {
    throw new PadSizeError(`normalizeAndPad(img): expected data.length = H*W*3 = ${h * w * 3}, got ${data.length}`);
  }
  const out = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(mean[c] as number);
    const s = Math.fround(std[c] as number);
    // One table per channel: 256 possible values.
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) lut[v] = Math.fround(Math.fround(v - m) / s);
    const plane = c * size * size;
    for (let y = 0; y < h; y++) {
      const row = plane + y * size;
      let p = y * w * 3 + c;
      for (let x = 0; x < w; x++, p += 3) out[row + x] = lut[data[p] as number] as number;
    }
  }
  return out;
}
