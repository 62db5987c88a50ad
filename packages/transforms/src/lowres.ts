/**
 * The mask decoder's low-resolution frame: `256 x 256` logits covering the whole `1024 x 1024` model
 * frame (so 4 model pixels per low-res pixel; the image occupies the top-left `(h/4, w/4)`).
 */
import type { ResizeGeometry } from './geometry.js';
import { MaskShapeError, cropPadPlane, type BinaryMask, type MaskResizeMethod } from './mask.js';
import { resizePlanes } from './resample.js';

/** Side of the decoder's low-res mask grid. */
export const LOW_RES_SIZE = 256;

/** Options of `maskToLowRes`. */
export interface LowResTargetOptions {
  /** Keep the covered fraction in `[0,1]` instead of thresholding it at 0.5. Default false. */
  readonly soft?: boolean;
  /** How the ORIGINAL mask is resized into the model frame. Default `bilinear`. */
  readonly method?: MaskResizeMethod;
  /** Side of the low-res grid. Default 256. */
  readonly size?: number;
}

/**
 * The loss target of a mask in the decoder's low-res frame: the ORIGINAL mask `(H,W)` is mapped to the
 * MODEL frame (`geometry.maskToModel`: resize to `(h,w)`, zero-pad to `1024 x 1024`), then each
 * low-res pixel takes the area average of its `4 x 4` model pixels; by default that fraction is
 * thresholded at 0.5 (`>= 0.5` → 1).
 * @returns Float32 `[256,256]` row-major, values 0/1 (or fractions with `soft`).
 */
export function maskToLowRes(
  mask: BinaryMask,
  geometry: ResizeGeometry,
  options: LowResTargetOptions = {},
): Float32Array {
  const size = options.size ?? LOW_RES_SIZE;
  const t = geometry.targetLength;
  const model = geometry.maskToModel(mask, options.method ?? 'bilinear');
  const low = resizePlanes(model.data, t, t, size, size, 'area');
  if (!options.soft) for (let i = 0; i < low.length; i++) low[i] = (low[i] as number) >= 0.5 ? 1 : 0;
  return low;
}

/** Throws unless `logits` holds `[S,S]` values, naming the calling function. */
function checkLowRes(fn: string, logits: ArrayLike<number>, lowResSize: number): void {
  if (logits.length !== lowResSize * lowResSize) {
    throw new MaskShapeError(
      `${fn}(logits): expected [${lowResSize},${lowResSize}] = ${lowResSize * lowResSize} values, got ${logits.length}`,
    );
  }
}

/**
 * SAM's `postprocess_masks` for one mask: low-res logits `[256,256]` → bilinear (torch, `align_corners=False`,
 * no antialias) up to `1024 x 1024` → crop to the input size `(h,w)` → bilinear to the ORIGINAL size `(H,W)`.
 * A `stretch` geometry (SAM 2.1, `SAM2Transforms.postprocess_masks`) resizes the low-res logits
 * straight to `(H,W)` (one bilinear pass, no crop).
 * @param logits Float32 `[256,256]` (any `[S,S]` with `S = lowResSize`), row-major.
 * @returns Float32 logits `(H,W)` row-major (threshold at 0 for the binary mask).
 */
export function lowResToOriginal(
  logits: ArrayLike<number>,
  geometry: ResizeGeometry,
  lowResSize = LOW_RES_SIZE,
): Float32Array {
  checkLowRes('lowResToOriginal', logits, lowResSize);
  const t = geometry.targetLength;
  const [h, w] = geometry.inputSize;
  const [H, W] = geometry.originalSize;
  if (geometry.resize === 'stretch') return resizePlanes(logits, lowResSize, lowResSize, W, H, 'torch-bilinear');
  const up = resizePlanes(logits, lowResSize, lowResSize, t, t, 'torch-bilinear');
  const cropped = cropPadPlane(up, t, t, w, h);
  return resizePlanes(cropped, w, h, W, H, 'torch-bilinear');
}

/**
 * Low-res logits `[256,256]` → logits in the MODEL frame `[1024,1024]` (torch bilinear, `align_corners=False`).
 */
export function lowResToModel(
  logits: ArrayLike<number>,
  geometry: ResizeGeometry,
  lowResSize = LOW_RES_SIZE,
): Float32Array {
  checkLowRes('lowResToModel', logits, lowResSize);
  const t = geometry.targetLength;
  return resizePlanes(logits, lowResSize, lowResSize, t, t, 'torch-bilinear');
}
