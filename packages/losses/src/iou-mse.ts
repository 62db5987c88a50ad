/**
 * IoU-head loss: the squared error between SAM's predicted IoU and the actual IoU of the
 * thresholded mask (`sigmoid(logits) >= 0.5`) with the target. The actual IoU is a constant for
 * the gradient: only `iouPredictions` receives gradient from this loss.
 */
import * as tf from '@tensorflow/tfjs';
import { checkIouPredictions, checkMaskPair, perMaskRows } from './shapes.js';

/**
 * IoU of the binarised prediction `sigmoid(logits) >= 0.5` with the target, per mask, `[B,M]`.
 * Targets are expected binary (0/1); `inter = sum(pred*t)`, `union = sum(pred) + sum(t) - inter`.
 * A mask whose prediction and target are both empty (union 0) has IoU 1. Carries no gradient
 * (the comparison's gradient is zero).
 * @param logits mask logits `[B,M,H,W]`
 * @param targets binary targets `[B,M,H,W]`
 */
export function maskIou(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor2D {
  const masks = checkMaskPair('maskIou', logits, targets);
  const [b = 0, m = 0] = logits.shape;
  return tf.tidy(() => {
    // Threshold the probability (not the logit) so float32 rounding of sigmoid matches torch.
    // GreaterEqual's gradient is zero, so the IoU is a constant for backprop.
    const pred = perMaskRows(tf.greaterEqual(tf.sigmoid(logits), 0.5), masks).toFloat();
    const tgt = perMaskRows(targets.toFloat(), masks);
    const inter = tf.sum(tf.mul(pred, tgt), 1);
    const union = tf.sub(tf.add(tf.sum(pred, 1), tf.sum(tgt, 1)), inter);
    // empty = 1 where the union is 0 (counts are integers), else 0; (0+1)/(0+1) = 1 for empty masks.
    // Written with differentiable ops only: tfjs has no gradient for Equal/Where's condition.
    const empty = tf.sub(1, tf.minimum(union, 1));
    const iou = tf.div(tf.add(inter, empty), tf.add(union, empty));
    return iou.reshape([b, m]);
  });
}

/**
 * IoU-MSE per mask, `[B*M]` (row `b*M + m`): `(iouPredictions - maskIou(logits, targets))^2`.
 * @param logits mask logits `[B,M,H,W]`
 * @param targets binary targets `[B,M,H,W]`
 * @param iouPredictions predicted IoU `[B,M]`
 */
export function iouMseLossPerMask(logits: tf.Tensor, targets: tf.Tensor, iouPredictions: tf.Tensor): tf.Tensor1D {
  const masks = checkMaskPair('iouMseLossPerMask', logits, targets);
  checkIouPredictions('iouMseLossPerMask', logits, iouPredictions);
  return tf.tidy(() =>
    tf.squaredDifference(iouPredictions.reshape([masks]), maskIou(logits, targets).reshape([masks])),
  );
}

/**
 * IoU-MSE of a batch, a scalar: summed over the `B*M` masks and divided by their number.
 * @param logits mask logits `[B,M,H,W]`
 * @param targets binary targets `[B,M,H,W]`
 * @param iouPredictions predicted IoU `[B,M]`
 */
export function iouMseLoss(logits: tf.Tensor, targets: tf.Tensor, iouPredictions: tf.Tensor): tf.Scalar {
  return tf.tidy(() => iouMseLossPerMask(logits, targets, iouPredictions).mean());
}
