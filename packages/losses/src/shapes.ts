/**
 * Shape checks shared by the loss functions. Every loss takes mask logits `[B,M,H,W]` (M masks per
 * batch item, usually 1; any `(H,W)`, usually the 256x256 low-res grid of the SAM decoder), binary
 * targets of the same shape, and, for the IoU head, predictions `[B,M]`.
 */
import type * as tf from '@tensorflow/tfjs';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when a loss gets tensors of the wrong rank or of mismatched shapes. */
export class LossShapeError extends SamtuneError {
  readonly code: string = 'loss-shape';
  readonly kind: ErrorKind = 'input';
  override readonly name = 'LossShapeError';
}

const fmt = (shape: readonly number[]): string => `[${shape.join(',')}]`;

/**
 * Checks `logits` `[B,M,H,W]` and `targets` of the same shape; returns the mask count `B*M`.
 * @throws LossShapeError naming `fn`, the argument, the expected and the actual shape.
 */
export function checkMaskPair(fn: string, logits: tf.Tensor, targets: tf.Tensor): number {
  if (logits.rank !== 4) {
    throw new LossShapeError(`${fn}(logits, targets): logits must be [B,M,H,W] (rank 4), got ${fmt(logits.shape)}`);
  }
  if (targets.rank !== 4 || targets.shape.some((d, i) => d !== logits.shape[i])) {
    throw new LossShapeError(
      `${fn}(logits, targets): targets must have the logits' shape ${fmt(logits.shape)}, got ${fmt(targets.shape)}`,
    );
  }
  const [b = 0, m = 0] = logits.shape;
  if (b * m === 0) {
    throw new LossShapeError(`${fn}(logits, targets): need at least one mask, got logits ${fmt(logits.shape)}`);
  }
  return b * m;
}

/**
 * Checks `iouPredictions` `[B,M]` against logits `[B,M,H,W]`.
 * @throws LossShapeError naming `fn`, the expected and the actual shape.
 */
export function checkIouPredictions(fn: string, logits: tf.Tensor, iouPredictions: tf.Tensor): void {
  const [b, m] = logits.shape;
  if (iouPredictions.rank !== 2 || iouPredictions.shape[0] !== b || iouPredictions.shape[1] !== m) {
    throw new LossShapeError(
      `${fn}(logits, targets, iouPredictions): iouPredictions must be [${b},${m}] for logits ${fmt(logits.shape)}, got ${fmt(iouPredictions.shape)}`,
    );
  }
}

/** Flattens `[B,M,H,W]` to `[B*M, H*W]` (one row per mask). */
export function perMaskRows(x: tf.Tensor, masks: number): tf.Tensor2D {
  return x.reshape([masks, -1]);
}
