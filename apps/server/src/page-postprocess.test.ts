/**
 * The page's post-processing (`public/postprocess.js`: both bilinear resizes of an axis folded into
 * 4 taps, thresholded and run-length encoded in one pass) against the two resizes done one after the
 * other as the decoder's post-processing graph does them (upsample 4x, crop, resize; `half_pixel`).
 */
import { describe, expect, it } from 'vitest';
import { cocoRleToMask, type CocoRle } from './rle.js';

type LowResToRle = (
  data: Float32Array,
  count: number,
  lowSize: [number, number],
  inputSize: [number, number],
  originalSize: [number, number],
  threshold: number,
) => (CocoRle & { area: number })[];
const page = (await import('./public/postprocess.js' as string)) as { lowResToRle: LowResToRle };

type Size = readonly [number, number];

/** `half_pixel` bilinear resize of a row-major `[h, w]` plane to `[oh, ow]` (float32 results). */
function resize(x: Float32Array, [h, w]: Size, [oh, ow]: Size): Float32Array {
  const src = (o: number, scale: number, n: number): [number, number, number] => {
    const s = Math.min(Math.max((o + 0.5) / scale - 0.5, 0), n - 1);
    const i = Math.floor(s);
    return [i, Math.min(i + 1, n - 1), s - i];
  };
  const out = new Float32Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    const [y0, y1, fy] = src(y, oh / h, h);
    for (let c = 0; c < ow; c++) {
      const [x0, x1, fx] = src(c, ow / w, w);
      const top = x[y0 * w + x0]! * (1 - fx) + x[y0 * w + x1]! * fx;
      const bottom = x[y1 * w + x0]! * (1 - fx) + x[y1 * w + x1]! * fx;
      out[y * ow + c] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** The graph's steps: the low-res rows/columns it reads, 4x upsample, crop to `[h, w]`, resize to `[H, W]`. */
function twoResizes(low: Float32Array, [rows, cols]: Size, [h, w]: Size, [H, W]: Size): Float32Array {
  const [lr, lc] = [Math.min(Math.floor(h / 4) + 2, 256, rows), Math.min(Math.floor(w / 4) + 2, 256, cols)];
  const kept = new Float32Array(lr * lc);
  for (let y = 0; y < lr; y++) kept.set(low.subarray(y * cols, y * cols + lc), y * lc);
  const up = resize(kept, [lr, lc], [4 * lr, 4 * lc]);
  const crop = new Float32Array(h * w);
  for (let y = 0; y < h; y++) crop.set(up.subarray(y * 4 * lc, y * 4 * lc + w), y * w);
  return resize(crop, [h, w], [H, W]);
}

describe('lowResToRle (the page)', () => {
  it.each([
    ['landscape 800x534', [176, 256], [684, 1024], [534, 800]],
    ['portrait 300x451', [256, 176], [1024, 681], [451, 300]],
  ] as const)('gives the two resizes’ masks, %s', (_name, lowSize, inputSize, originalSize) => {
    const [rows, cols] = lowSize;
    const low = new Float32Array(2 * rows * cols);
    for (let m = 0; m < 2; m++)
      for (let y = 0; y < rows; y++)
        for (let x = 0; x < cols; x++)
          low[(m * rows + y) * cols + x] =
            Math.sin(x / (9 + m * 4)) * 3 + Math.cos(y / 7) * 2 - 0.5 + ((x * y) % 5) / 9;
    const got = page.lowResToRle(low, 2, [...lowSize], [...inputSize], [...originalSize], 0);
    for (let m = 0; m < 2; m++) {
      const want = twoResizes(low.subarray(m * rows * cols), lowSize, inputSize, originalSize);
      const mask = cocoRleToMask(got[m]!).data;
      const [H, W] = originalSize;
      let differ = 0;
      let on = 0;
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          on += mask[y * W + x]!;
          if (Number(want[y * W + x]! > 0) !== mask[y * W + x]) differ++;
        }
      expect(on).toBeGreaterThan(H * W * 0.1);
      expect(differ).toBeLessThanOrEqual(2); // float rounding at logits within ~1e-6 of the threshold
      expect(got[m]!.area).toBe(on);
    }
  });
});
