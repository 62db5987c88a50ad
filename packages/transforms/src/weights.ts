/**
 * Per-axis resampling weights. A 2-D resize is separable: every output row/column is a weighted sum
 * of a contiguous run of input rows/columns. Each kind below says how that run and its weights are
 * chosen; `resample.ts` applies them.
 *
 * Frames: pixel `i` covers the continuous interval `[i, i+1)`, its centre is `i + 0.5`; an axis of
 * `inSize` pixels is stretched onto `outSize` pixels (half-pixel centres, no corner alignment).
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** How an axis is resampled. */
export type AxisKind =
  /** Pillow's BILINEAR (triangle filter, support scaled by the downscale factor = antialiased). */
  | 'pil-bilinear'
  /** torch `F.interpolate(mode='bilinear', align_corners=False, antialias=False)`: 2 taps. */
  | 'torch-bilinear'
  /**
   * torch `F.interpolate(mode='bilinear', align_corners=False, antialias=True)` (torchvision
   * `Resize` on a float tensor): the triangle filter widened by the downscale factor, the same
   * weights as Pillow's BILINEAR in double precision (torch ported them); equal to `torch-bilinear`
   * on an axis that is not shrunk.
   */
  | 'torch-bilinear-aa'
  /** Exact area average: the weight is the overlap of the input pixel with the output pixel. */
  | 'area'
  /** Nearest pixel centre: `floor((i + 0.5) * in / out)` (torch 'nearest-exact', PIL NEAREST). */
  | 'nearest';

/** Weights of one axis: output `i` reads `count[i]` inputs from `start[i]` with `w[i*ksize ...]`. */
export interface AxisWeights {
  readonly inSize: number;
  readonly outSize: number;
  readonly ksize: number;
  readonly start: Int32Array;
  readonly count: Int32Array;
  /** `[outSize, ksize]`, row `i` holds the weights of output `i` (zeros past `count[i]`). */
  readonly w: Float64Array;
}

/** Thrown for a non-positive or non-integer size. */
export class ResampleSizeError extends SamtuneError {
  readonly code: string = 'resample-size';
  readonly kind: ErrorKind = 'input';
  override readonly name = 'ResampleSizeError';
}

function checkSize(fn: string, arg: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) {
    throw new ResampleSizeError(`${fn}(${arg}): expected a positive integer size, got ${v}`);
  }
}

function triangle(x: number): number {
  const a = x < 0 ? -x : x;
  return a < 1 ? 1 - a : 0;
}

/**
 * Pillow's `precompute_coeffs` for the triangle filter, in double precision, in the same operation
 * order (so that the fixed-point coefficients derived from it are bit-identical).
 */
function pilWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = filterscale; // triangle support 1.0 * filterscale
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const w = new Float64Array(outSize * ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    const base = xx * ksize;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const v = triangle((x + xmin - center + 0.5) * ss);
      w[base + x] = v;
      ww += v;
    }
    if (ww !== 0) for (let x = 0; x < xmax; x++) w[base + x] = (w[base + x] as number) / ww;
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { inSize, outSize, ksize, start, count, w };
}

function torchBilinearWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const w = new Float64Array(outSize * 2);
  for (let i = 0; i < outSize; i++) {
    let src = scale * (i + 0.5) - 0.5;
    if (src < 0) src = 0;
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const l1 = src - i0;
    start[i] = i0;
    if (i0 < inSize - 1) {
      count[i] = 2;
      w[i * 2] = 1 - l1;
      w[i * 2 + 1] = l1;
    } else {
      count[i] = 1;
      w[i * 2] = 1;
    }
  }
  return { inSize, outSize, ksize: 2, start, count, w };
}

function areaWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const ksize = Math.ceil(scale) + 2; // +2: float rounding at both ends of the interval
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const w = new Float64Array(outSize * ksize);
  for (let i = 0; i < outSize; i++) {
    const lo = i * scale;
    const hi = Math.min((i + 1) * scale, inSize);
    const j0 = Math.floor(lo);
    const j1 = Math.min(Math.ceil(hi), inSize);
    start[i] = j0;
    let n = 0;
    for (let j = j0; j < j1; j++) {
      const overlap = Math.min(hi, j + 1) - Math.max(lo, j);
      if (n < ksize) w[i * ksize + n] = overlap / (hi - lo);
      n++;
    }
    count[i] = Math.min(n, ksize);
  }
  return { inSize, outSize, ksize, start, count, w };
}

function nearestWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize).fill(1);
  const w = new Float64Array(outSize).fill(1);
  for (let i = 0; i < outSize; i++) start[i] = Math.min(Math.floor((i + 0.5) * scale), inSize - 1);
  return { inSize, outSize, ksize: 1, start, count, w };
}

/** Weights to resample an axis of `inSize` pixels to `outSize` pixels with the given kind. */
export function axisWeights(kind: AxisKind, inSize: number, outSize: number): AxisWeights {
  checkSize('axisWeights', 'inSize', inSize);
  checkSize('axisWeights', 'outSize', outSize);
  switch (kind) {
    case 'pil-bilinear':
    case 'torch-bilinear-aa':
      return pilWeights(inSize, outSize);
    case 'torch-bilinear':
      return torchBilinearWeights(inSize, outSize);
    case 'area':
      return areaWeights(inSize, outSize);
    case 'nearest':
      return nearestWeights(inSize, outSize);
  }
}

/** Pillow's PRECISION_BITS for 8-bit resampling: `32 - 8 - 2`. */
export const PIL_PRECISION_BITS = 22;

/** Pillow's `normalize_coeffs_8bpc`: double weights to fixed point with round-half-away-from-zero. */
export function fixedPointWeights(w: Float64Array): Int32Array {
  const one = 1 << PIL_PRECISION_BITS;
  const out = new Int32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const v = w[i] as number;
    out[i] = v < 0 ? Math.trunc(-0.5 + v * one) : Math.trunc(0.5 + v * one);
  }
  return out;
}
