// The decoder's mask post-processing on the page, straight to COCO RLE: what sam-model's
// `recordPostprocessGraph` computes (the low-res logits' rows/columns the image covers, a bilinear
// 4x upsample to the 1024 frame, the crop to the resized image, a bilinear resize to the original
// size; `half_pixel` coordinates as onnxruntime's Resize and torch's `interpolate`), with both
// resizes of an axis folded into one table of (at most) 4 taps per output pixel, applied row pass
// then column pass, and the `> threshold` pixels run-length encoded in the same pass. The same
// values as the graph up to float32 rounding (the taps are computed in float64), ~2M multiply-adds a
// 534x800 mask instead of onnxruntime-web's two Resize kernels over the 1024-frame image.

import { RleBuilder } from './rle.js';

const LOW_RES = 256; // low-res mask side
const TAPS = 4;

/** Output `o` of a `half_pixel` bilinear resize by `scale` of `n` samples: its two source indices and the second's weight. */
function bilinear(o, scale, n) {
  const x = Math.min(Math.max((o + 0.5) / scale - 0.5, 0), n - 1);
  const i0 = Math.floor(x);
  const i1 = Math.min(i0 + 1, n - 1);
  return [i0, i1, x - i0];
}

/**
 * One axis's taps: output index `o` (of `out`) reads low-res indices `index[4o..4o+3]` with weights
 * `weight[4o..4o+3]`; `input`: the resized image's size on this axis (1024 frame), `avail`: the
 * low-res samples given.
 */
export function axisTaps(input, out, avail) {
  const low = Math.min(Math.floor(input / 4) + 2, LOW_RES, avail); // the rows/columns the graph slices
  const index = new Int32Array(out * TAPS);
  const weight = new Float64Array(out * TAPS);
  for (let o = 0; o < out; o++) {
    const [m0, m1, wm] = bilinear(o, out / input, input); // into the 1024-frame crop
    [
      [m0, 1 - wm],
      [m1, wm],
    ].forEach(([m, w], k) => {
      const [l0, l1, wl] = bilinear(m, 4, low); // into the low-res logits
      index[o * TAPS + 2 * k] = l0;
      weight[o * TAPS + 2 * k] = w * (1 - wl);
      index[o * TAPS + 2 * k + 1] = l1;
      weight[o * TAPS + 2 * k + 1] = w * wl;
    });
  }
  return { index, weight, low };
}

/**
 * Masks `[count, rows, cols]` of low-res logits (row-major, `data`, the cropped head's top-left
 * region of the 256x256 grid) -> COCO RLE (column-major runs) of `logit > threshold` at the original
 * size `[H, W]`, the image having been resized to `[h, w]` in the 1024 frame.
 */
export function lowResToRle(data, count, [rows, cols], [h, w], [H, W], threshold) {
  const ys = axisTaps(h, H, rows);
  const xs = axisTaps(w, W, cols);
  const t = new Float32Array(xs.low * H); // row pass, transposed: t[c * H + y]
  const out = [];
  for (let m = 0; m < count; m++) {
    const base = m * rows * cols;
    for (let y = 0; y < H; y++) {
      const k = y * TAPS;
      const [r0, r1, r2, r3] = [ys.index[k], ys.index[k + 1], ys.index[k + 2], ys.index[k + 3]];
      const [w0, w1, w2, w3] = [ys.weight[k], ys.weight[k + 1], ys.weight[k + 2], ys.weight[k + 3]];
      for (let c = 0; c < xs.low; c++)
        t[c * H + y] =
          w0 * data[base + r0 * cols + c] +
          w1 * data[base + r1 * cols + c] +
          w2 * data[base + r2 * cols + c] +
          w3 * data[base + r3 * cols + c];
    }
    const rle = new RleBuilder(H, W);
    for (let x = 0; x < W; x++) {
      const k = x * TAPS;
      const [c0, c1, c2, c3] = [xs.index[k] * H, xs.index[k + 1] * H, xs.index[k + 2] * H, xs.index[k + 3] * H];
      const [w0, w1, w2, w3] = [xs.weight[k], xs.weight[k + 1], xs.weight[k + 2], xs.weight[k + 3]];
      for (let y = 0; y < H; y++)
        rle.push(w0 * t[c0 + y] + w1 * t[c1 + y] + w2 * t[c2 + y] + w3 * t[c3 + y] > threshold);
    }
    out.push(rle.done());
  }
  return out;
}
