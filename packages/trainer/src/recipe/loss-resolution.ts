/**
 * `loss.resolution`: where the training loss is computed.
 *
 * - `lowres` (default, SAM's training): on the decoder's `[B,M,256,256]` low-res logits against the
 *   instance mask area-downsampled into the low-res frame (`maskToLowRes`).
 * - `original` (OTX's recipe): the logits are first post-processed to the ORIGINAL image size `(H,W)`
 *   the way `Sam.postprocess_masks` does it (torch bilinear, `align_corners=False`, no antialias, up
 *   to `1024x1024`, crop to the resized image `(h,w)`, bilinear to `(H,W)`), then the loss is taken
 *   against the original-size instance mask.
 *
 * The post-processing is linear and separable, so this module folds its three steps into one matrix
 * per axis, `Ry [H,256]` and `Rx [W,256]` (computed once per image size in float64 from the same torch
 * weights as `@samtune/transforms`' `lowResToOriginal`), and applies `Ry · X · Rxᵀ` with two
 * `tf.matMul`s. Unlike `tf.image.resizeBilinear`, whose tfjs gradient ignores `halfPixelCenters` (it
 * back-projects with the `align_corners=False` legacy formula), matMul's gradient is exact.
 *
 * Cost (`pnpm bench:recipe`, bench/results/recipe.md; tinyvit decoder, tfjs-wasm, one box prompt, a
 * shared 2-core machine): the forward adds `2·B·M·H·W·256` multiply-adds, and the focal, dice and IoU
 * terms and their gradients run on `[B,M,H,W]` instead of `[B,M,256,256]`. At 1536x2048 (3 Mpixel)
 * the loss head alone takes 770 ms instead of 13 ms and peaks at 923 MB of tensors instead of 19 MB,
 * per MASK (a single-point prompt trains the best of 3 masks: 3x that); a whole training step per
 * prompt is 2.9x the low-res one (3.1 s vs 1.1 s) and peaks 0.9 GB higher. At 534x800: 1.45x, 128 MB.
 * A micro-batch of `training.microBatch` prompts multiplies the memory: lower it for large images.
 */
import * as tf from '@tensorflow/tfjs';
import { LOW_RES_SIZE, type ResizeGeometry } from '@samtune/transforms';
import { LossResolutionError, postprocessMatrices } from './postprocess-matrices.js';
export {
  LossResolutionError,
  postprocessAxisMatrix,
  postprocessMatrices,
  type PostprocessMatrices,
} from './postprocess-matrices.js';

/**
 * Differentiable `Sam.postprocess_masks` on tfjs: `logits [B,M,S,S]` → `[B,M,H,W]` logits at the
 * original size (the same values as `lowResToOriginal` per plane, to float32 rounding). Not tidied:
 * call inside `tf.tidy` / `tf.variableGrads`.
 */
export function lowResToOriginalTf(logits: tf.Tensor, geometry: ResizeGeometry, lowRes = LOW_RES_SIZE): tf.Tensor {
  const s = logits.shape;
  if (s.length !== 4 || s[2] !== lowRes || s[3] !== lowRes) {
    throw new LossResolutionError(
      `lowResToOriginalTf(logits): expected [B,M,${lowRes},${lowRes}], got [${s.join(',')}]`,
    );
  }
  const [b, mm] = s as [number, number, number, number];
  const { rows, cols, originalSize } = postprocessMatrices(geometry, lowRes);
  const [H, W] = originalSize;
  const n = b * mm;
  // X · Rxᵀ: [n*S, S] x [W, S]ᵀ -> [n, S, W]
  const xc = tf.reshape(
    tf.matMul(tf.reshape(logits, [n * lowRes, lowRes]), tf.tensor2d(cols, [W, lowRes]), false, true),
    [n, lowRes, W],
  );
  // Ry · (X · Rxᵀ): [n, H, S] x [n, S, W] -> [n, H, W] (Ry tiled: a constant of n*H*S floats)
  const ry = n === 1 ? tf.tensor3d(rows, [1, H, lowRes]) : tf.tile(tf.tensor3d(rows, [1, H, lowRes]), [n, 1, 1]);
  return tf.reshape(tf.matMul(ry, xc), [b, mm, H, W]);
}

/**
 * The `toLossFrame` hook of `decoderLoss` for `loss.resolution original`: maps the decoder's logits to
 * the original frame of `geometry` (the targets must then be `[B,1,H,W]` original-size masks).
 */
export function originalLossFrame(geometry: ResizeGeometry): (masks: tf.Tensor) => tf.Tensor {
  return (masks) => lowResToOriginalTf(masks, geometry);
}
