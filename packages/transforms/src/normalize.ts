/**
 * SAM's pixel normalisation and padding, in the official order: normalise, THEN pad bottom/right
 * with zeros (so padding is 0 after normalisation).
 */
import type { RgbImage } from './image-io.js';

/** Thrown when an image does not fit the padded square. */
export class PadSizeError extends Error {
  override readonly name = 'PadSizeError';
}

/**
 * `(x - mean) / std` per RGB channel, then zero-pad to `size x size`.
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
    throw new PadSizeError(`normalizeAndPad(img): image (H,W)=(${h},${w}) is larger than the ${size}x${size} input; resize it first`);
  }
  const out = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    const m = mean[c] as number;
    const s = std[c] as number;
    const plane = c * size * size;
    for (let y = 0; y < h; y++) {
      const row = plane + y * size;
      for (let x = 0; x < w; x++) out[row + x] = ((data[(y * w + x) * 3 + c] as number) - m) / s;
    }
  }
  return out;
}
