/**
 * SAM's post-processing (`Sam.postprocess_masks`: bilinear to the 1024 frame, crop to the resized
 * image, bilinear to the original size) folded into one matrix per axis, so that the loss at the
 * original size is `Ry · X · Rxᵀ` on either engine (`loss-resolution.ts` on tfjs, the ort engine's
 * training graphs). Executor-free.
 */
import { axisWeights, LOW_RES_SIZE, type ResizeGeometry } from '@samtune/transforms';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown for logits or targets whose shape does not fit the geometry. */
export class LossResolutionError extends SamtuneError {
  readonly code: string = 'loss-resolution';
  readonly kind: ErrorKind = 'input';
}

/** Dense `[outSize, inSize]` torch-bilinear (`align_corners=False`) resampling matrix, float64. */
function bilinearMatrix(inSize: number, outSize: number): Float64Array {
  const a = axisWeights('torch-bilinear', inSize, outSize);
  const m = new Float64Array(outSize * inSize);
  for (let i = 0; i < outSize; i++) {
    const start = a.start[i] as number;
    const count = a.count[i] as number;
    for (let k = 0; k < count; k++) {
      const j = i * inSize + start + k;
      m[j] = (m[j] as number) + (a.w[i * a.ksize + k] as number);
    }
  }
  return m;
}

/**
 * One axis of SAM's post-processing as a `[outLen, lowRes]` matrix (row-major, float32): bilinear
 * `lowRes → target`, keep the first `inputLen` of the `target` pixels, bilinear `inputLen → outLen`.
 * @param lowRes the low-res side (256)
 * @param target the model frame side (1024, `geometry.targetLength`)
 * @param inputLen the resized image's side on this axis (`geometry.inputSize`, `h` or `w`)
 * @param outLen the original image's side on this axis (`H` or `W`)
 */
export function postprocessAxisMatrix(lowRes: number, target: number, inputLen: number, outLen: number): Float32Array {
  if (!(inputLen >= 1 && inputLen <= target)) {
    throw new LossResolutionError(
      `postprocessAxisMatrix(inputLen): expected an integer in [1, ${target}], got ${inputLen}`,
    );
  }
  const up = bilinearMatrix(lowRes, target); // [target, lowRes]; only its first inputLen rows survive the crop
  const down = bilinearMatrix(inputLen, outLen); // [outLen, inputLen]
  const out = new Float32Array(outLen * lowRes);
  const row = new Float64Array(lowRes);
  for (let o = 0; o < outLen; o++) {
    row.fill(0);
    for (let i = 0; i < inputLen; i++) {
      const w = down[o * inputLen + i] as number;
      if (w === 0) continue;
      for (let j = 0; j < lowRes; j++) row[j] = (row[j] as number) + w * (up[i * lowRes + j] as number);
    }
    out.set(row, o * lowRes);
  }
  return out;
}

/** The two post-processing matrices of a geometry: `rows [H,S]` and `cols [W,S]`. */
export interface PostprocessMatrices {
  readonly rows: Float32Array;
  readonly cols: Float32Array;
  /** `(H,W)` of the original image. */
  readonly originalSize: readonly [number, number];
  /** S, the low-res side. */
  readonly lowRes: number;
}

const cache = new Map<string, PostprocessMatrices>();
const CACHE_LIMIT = 64;

/** The matrices of `geometry` (cached per original size and frame; a few MB each at 2048 pixels). */
export function postprocessMatrices(geometry: ResizeGeometry, lowRes = LOW_RES_SIZE): PostprocessMatrices {
  const [H, W] = geometry.originalSize;
  const [h, w] = geometry.inputSize;
  const t = geometry.targetLength;
  const key = `${H}x${W}|${h}x${w}|${t}|${lowRes}`;
  let m = cache.get(key);
  if (!m) {
    m = {
      rows: postprocessAxisMatrix(lowRes, t, h, H),
      cols: postprocessAxisMatrix(lowRes, t, w, W),
      originalSize: [H, W],
      lowRes,
    };
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(key, m);
  }
  return m;
}
