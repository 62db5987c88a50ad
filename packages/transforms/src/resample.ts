/**
 * Separable 2-D resampling.
 * - `resizePil`: Pillow's `Image.resize(size, BILINEAR)` on 8-bit images, bit for bit: fixed-point
 *   coefficients (22 bits), a horizontal pass then a vertical pass, rounding and clipping to 8 bits
 *   after each pass. This is what the official SAM preprocessing (torchvision `resize` on a PIL image)
 *   computes.
 * - `resizePlanes`: float resampling of `C` interleaved channels with any `AxisKind`.
 */
import { PIL_PRECISION_BITS, axisWeights, fixedPointWeights, type AxisKind, type AxisWeights } from './weights.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when a buffer does not match the size it is said to have. */
export class ResampleInputError extends SamtuneError {
  readonly code: string = 'resample-input';
  readonly kind: ErrorKind = 'input';
}

/** An interleaved 8-bit image `(H,W,C)`; an `RgbImage` is one with `C = 3`. */
export interface Image8 {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

function channelsOf(fn: string, img: Image8): number {
  const px = img.width * img.height;
  const c = px > 0 ? img.data.length / px : 0;
  if (!Number.isInteger(c) || c < 1) {
    throw new ResampleInputError(
      `${fn}(img): expected data.length = H*W*C for (H,W)=(${img.height},${img.width}), got ${img.data.length}`,
    );
  }
  return c;
}

function clip8(ss: number): number {
  const v = ss >> PIL_PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** One Pillow 8-bit pass along x over rows `[y0, y1)` of `src`. */
function pilHorizontal(src: Uint8Array, inW: number, c: number, y0: number, y1: number, wt: AxisWeights): Uint8Array {
  const outW = wt.outSize;
  const k = fixedPointWeights(wt.w);
  const out = new Uint8Array((y1 - y0) * outW * c);
  const half = 1 << (PIL_PRECISION_BITS - 1);
  for (let y = y0; y < y1; y++) {
    const rowIn = y * inW * c;
    const rowOut = (y - y0) * outW * c;
    for (let xx = 0; xx < outW; xx++) {
      const xmin = wt.start[xx] as number;
      const n = wt.count[xx] as number;
      const kb = xx * wt.ksize;
      for (let ch = 0; ch < c; ch++) {
        let ss = half;
        let p = rowIn + xmin * c + ch;
        for (let x = 0; x < n; x++, p += c) ss += (src[p] as number) * (k[kb + x] as number);
        out[rowOut + xx * c + ch] = clip8(ss);
      }
    }
  }
  return out;
}

/** One Pillow 8-bit pass along y; `offset` is the first source row held by `src`. */
function pilVertical(src: Uint8Array, w: number, c: number, offset: number, wt: AxisWeights): Uint8Array {
  const outH = wt.outSize;
  const k = fixedPointWeights(wt.w);
  const rowLen = w * c;
  const out = new Uint8Array(outH * rowLen);
  const half = 1 << (PIL_PRECISION_BITS - 1);
  for (let yy = 0; yy < outH; yy++) {
    const ymin = (wt.start[yy] as number) - offset;
    const n = wt.count[yy] as number;
    const kb = yy * wt.ksize;
    const rowOut = yy * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let ss = half;
      let p = ymin * rowLen + i;
      for (let y = 0; y < n; y++, p += rowLen) ss += (src[p] as number) * (k[kb + y] as number);
      out[rowOut + i] = clip8(ss);
    }
  }
  return out;
}

/**
 * Pillow's `Image.resize((outW, outH), Image.BILINEAR)` (antialiased triangle filter) on an 8-bit
 * interleaved image, bit-exact. Works for any channel count (RGB: 3).
 * @returns a new image `(outH, outW, C)`.
 */
export function resizePil(img: Image8, outW: number, outH: number): Image8 {
  const c = channelsOf('resizePil', img);
  const { width: inW, height: inH } = img;
  const needH = outW !== inW;
  const needV = outH !== inH;
  const vert = axisWeights('pil-bilinear', inH, outH);
  let data = img.data;
  let offset = 0;
  if (needH) {
    // Pillow only resamples the rows that the vertical pass will read.
    const first = vert.start[0] as number;
    const last = (vert.start[outH - 1] as number) + (vert.count[outH - 1] as number);
    data = pilHorizontal(data, inW, c, needV ? first : 0, needV ? last : inH, axisWeights('pil-bilinear', inW, outW));
    offset = needV ? first : 0;
  }
  if (needV) data = pilVertical(data, outW, c, offset, vert);
  if (!needH && !needV) data = data.slice();
  return { width: outW, height: outH, data };
}

/** Whether `src[from, from+length)` is all zeros; stops at the first nonzero (logits: at once). */
function isZeroRun(src: ArrayLike<number>, from: number, length: number): boolean {
  for (let i = from; i < from + length; i++) if (src[i] !== 0) return false;
  return true;
}

/**
 * Float resampling of `C` interleaved channels, `src` `(inH,inW,C)` → `(outH,outW,C)`, separable
 * (x then y) in double precision, result stored as float32. `kind` picks the filter (see `AxisKind`).
 */
export function resizePlanes(
  src: ArrayLike<number>,
  inW: number,
  inH: number,
  outW: number,
  outH: number,
  kind: AxisKind,
  channels = 1,
): Float32Array {
  if (src.length !== inW * inH * channels) {
    throw new ResampleInputError(
      `resizePlanes(src): expected length H*W*C = ${inH}*${inW}*${channels} = ${inH * inW * channels}, got ${src.length}`,
    );
  }
  const c = channels;
  const wx = axisWeights(kind, inW, outW);
  const wy = axisWeights(kind, inH, outH);
  const tmp = new Float64Array(inH * outW * c);
  // Rows of zeros stay zeros (the arrays start at 0, and 0*w sums to exactly 0): masks are mostly
  // background, so skipping them is exact and saves most of the work on instance masks.
  const zeroRow = new Uint8Array(inH);
  for (let y = 0; y < inH; y++) {
    const rowIn = y * inW * c;
    if (isZeroRun(src, rowIn, inW * c)) {
      zeroRow[y] = 1;
      continue;
    }
    const rowOut = y * outW * c;
    for (let xx = 0; xx < outW; xx++) {
      const x0 = wx.start[xx] as number;
      const n = wx.count[xx] as number;
      const kb = xx * wx.ksize;
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let x = 0; x < n; x++) s += (src[rowIn + (x0 + x) * c + ch] as number) * (wx.w[kb + x] as number);
        tmp[rowOut + xx * c + ch] = s;
      }
    }
  }
  const rowLen = outW * c;
  const out = new Float32Array(outH * rowLen);
  for (let yy = 0; yy < outH; yy++) {
    const y0 = wy.start[yy] as number;
    const n = wy.count[yy] as number;
    const kb = yy * wy.ksize;
    const rowOut = yy * rowLen;
    let allZero = true;
    for (let y = 0; y < n && allZero; y++) allZero = zeroRow[y0 + y] === 1;
    if (allZero) continue;
    for (let i = 0; i < rowLen; i++) {
      let s = 0;
      for (let y = 0; y < n; y++) s += (tmp[(y0 + y) * rowLen + i] as number) * (wy.w[kb + y] as number);
      out[rowOut + i] = s;
    }
  }
  return out;
}
