/**
 * Exact Euclidean distance transform (Felzenszwalb & Huttenlocher, "Distance Transforms of Sampled
 * Functions"): two 1-D passes of the lower envelope of parabolas, O(H*W).
 */
import { assertMask, type BinaryMask } from './mask.js';

const FAR = 1e20;

/** Squared distance transform of a 1-D sampled function `f` (length `n`) into `d`. */
function dt1d(f: Float64Array, n: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    const fq = (f[q] as number) + q * q;
    let s: number;
    for (;;) {
      const p = v[k] as number;
      s = (fq - ((f[p] as number) + p * p)) / (2 * q - 2 * p);
      if (s > (z[k] as number)) break;
      k--;
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while ((z[k + 1] as number) < q) k++;
    const p = v[k] as number;
    d[q] = (q - p) * (q - p) + (f[p] as number);
  }
}

/**
 * For every pixel inside the mask, the Euclidean distance (pixel units, between pixel centres) to the
 * nearest pixel outside it; pixels outside the image count as outside, so a mask touching the border
 * gets distance 1 there. Outside pixels get 0.
 * @returns Float64 `(H,W)` row-major.
 */
export function distanceToBackground(mask: BinaryMask): Float64Array {
  assertMask('distanceToBackground', 'mask', mask);
  // Work on the mask padded by one background pixel on every side.
  const W = mask.width + 2;
  const H = mask.height + 2;
  const g = new Float64Array(W * H);
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) if (mask.data[y * mask.width + x]) g[(y + 1) * W + x + 1] = FAR;
  }
  const n = Math.max(W, H);
  const f = new Float64Array(n);
  const d = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  for (let x = 0; x < W; x++) {
    for (let y = 0; y < H; y++) f[y] = g[y * W + x] as number;
    dt1d(f, H, d, v, z);
    for (let y = 0; y < H; y++) g[y * W + x] = d[y] as number;
  }
  for (let y = 0; y < H; y++) {
    const row = y * W;
    for (let x = 0; x < W; x++) f[x] = g[row + x] as number;
    dt1d(f, W, d, v, z);
    for (let x = 0; x < W; x++) g[row + x] = d[x] as number;
  }
  const out = new Float64Array(mask.width * mask.height);
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) out[y * mask.width + x] = Math.sqrt(g[(y + 1) * W + x + 1] as number);
  }
  return out;
}
