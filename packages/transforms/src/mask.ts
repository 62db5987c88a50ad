/**
 * Binary masks `(H,W)` in row-major order, and their resizing.
 */
import { resizePlanes } from './resample.js';
import type { AxisKind } from './weights.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** A binary mask `(H,W)`: `data[y * width + x]` is 1 inside, 0 outside. */
export interface BinaryMask {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Anything with a pixel size (an `RgbImage`, a `BinaryMask`, `{ width, height }`). */
export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

/** Thrown when a mask or a mask-shaped buffer has the wrong size or values. */
export class MaskShapeError extends SamtuneError {
  readonly code: string = 'mask-shape';
  readonly kind: ErrorKind = 'input';
}

/**
 * How a mask is resampled:
 * - `bilinear`: Pillow-style triangle filter on 0/1 (antialiased when shrinking, plain bilinear with
 *   half-pixel centres when enlarging), then `>= 0.5`.
 * - `area`: exact area average (fraction of the output pixel covered by the mask), then `>= 0.5`.
 * - `nearest`: the input pixel under the output pixel's centre.
 */
export type MaskResizeMethod = 'bilinear' | 'area' | 'nearest';

const KIND: Record<MaskResizeMethod, AxisKind> = { bilinear: 'pil-bilinear', area: 'area', nearest: 'nearest' };

/** Checks that `mask.data` holds `width * height` values; returns the mask. */
export function assertMask(fn: string, arg: string, mask: BinaryMask): BinaryMask {
  const { width, height, data } = mask;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new MaskShapeError(`${fn}(${arg}): expected a positive integer mask size, got (H,W)=(${height},${width})`);
  }
  if (data.length !== width * height) {
    throw new MaskShapeError(
      `${fn}(${arg}): expected data.length = H*W = ${height}*${width} = ${width * height}, got ${data.length}`,
    );
  }
  return mask;
}

/**
 * A new mask `(H,W)`, all zeros, or wrapping `data` (any non-zero value is normalised to 1 in a copy).
 */
export function createMask(width: number, height: number, data?: ArrayLike<number>): BinaryMask {
  const out = new Uint8Array(width * height);
  if (data !== undefined) {
    if (data.length !== width * height) {
      throw new MaskShapeError(
        `createMask(data): expected length H*W = ${height}*${width} = ${width * height}, got ${data.length}`,
      );
    }
    for (let i = 0; i < out.length; i++) out[i] = data[i] ? 1 : 0;
  }
  return assertMask('createMask', 'width/height', { width, height, data: out });
}

/** Whether the mask has a foreground pixel (nonzero); a plain loop that stops at the first one. */
export function hasForeground(mask: BinaryMask): boolean {
  const d = mask.data;
  for (let i = 0; i < d.length; i++) if (d[i] !== 0) return true;
  return false;
}

/** Number of pixels inside the mask. */
export function maskArea(mask: BinaryMask): number {
  let n = 0;
  const d = mask.data;
  for (let i = 0; i < d.length; i++) if (d[i]) n++;
  return n;
}

/** Threshold a float map `(H,W)` into a mask: `value >= threshold` is inside. */
export function thresholdMask(values: ArrayLike<number>, width: number, height: number, threshold: number): BinaryMask {
  if (values.length !== width * height) {
    throw new MaskShapeError(
      `thresholdMask(values): expected length H*W = ${height}*${width} = ${width * height}, got ${values.length}`,
    );
  }
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = (values[i] as number) >= threshold ? 1 : 0;
  return { width, height, data: out };
}

/** SAM's binarisation of mask logits `(H,W)`: `logit > threshold` (mask_threshold 0.0) is inside. */
export function logitsToMask(logits: ArrayLike<number>, width: number, height: number, threshold = 0): BinaryMask {
  if (logits.length !== width * height) {
    throw new MaskShapeError(
      `logitsToMask(logits): expected length H*W = ${height}*${width} = ${width * height}, got ${logits.length}`,
    );
  }
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = (logits[i] as number) > threshold ? 1 : 0;
  return { width, height, data: out };
}

/**
 * The fraction of each output pixel that the mask covers, after resampling to `(height,width)`
 * (values in `[0,1]`; `nearest` gives only 0/1).
 * @returns Float32 `(height,width)` row-major.
 */
export function resizeMaskSoft(
  mask: BinaryMask,
  width: number,
  height: number,
  method: MaskResizeMethod = 'bilinear',
): Float32Array {
  assertMask('resizeMaskSoft', 'mask', mask);
  return resizePlanes(mask.data, mask.width, mask.height, width, height, KIND[method]);
}

/**
 * Resizes a mask to `(height,width)`: resample 0/1 with `method`, then keep `>= 0.5`.
 */
export function resizeMask(
  mask: BinaryMask,
  width: number,
  height: number,
  method: MaskResizeMethod = 'bilinear',
): BinaryMask {
  assertMask('resizeMask', 'mask', mask);
  if (width === mask.width && height === mask.height) return { width, height, data: mask.data.slice() };
  return thresholdMask(resizeMaskSoft(mask, width, height, method), width, height, 0.5);
}

/** Copies the top-left `(height,width)` window of a `(H,W)` plane (crop when smaller, zero pad when larger). */
export function cropPadPlane<T extends Uint8Array | Float32Array>(
  src: T,
  srcW: number,
  srcH: number,
  width: number,
  height: number,
): T {
  const out = (src instanceof Uint8Array ? new Uint8Array(width * height) : new Float32Array(width * height)) as T;
  const w = Math.min(srcW, width);
  const h = Math.min(srcH, height);
  for (let y = 0; y < h; y++) out.set(src.subarray(y * srcW, y * srcW + w), y * width);
  return out;
}
