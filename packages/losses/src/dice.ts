/**
 * Soft Dice loss per mask on `p = sigmoid(logits)`:
 * `1 - (2*sum(p*t) + smooth) / (sum(p) + sum(t) + smooth)`, sums over the `H*W` pixels of a mask.
 */
import * as tf from '@tensorflow/tfjs';
import { checkMaskPair, perMaskRows } from './shapes.js';

/** The additive smoothing of the Dice ratio used by the reference (1). */
export const DEFAULT_DICE_SMOOTH = 1;

/**
 * Dice loss per mask, `[B*M]` (row `b*M + m`).
 * @param logits mask logits `[B,M,H,W]`
 * @param targets binary targets `[B,M,H,W]`
 * @param smooth added to numerator and denominator (default 1)
 */
export function diceLossPerMask(logits: tf.Tensor, targets: tf.Tensor, smooth = DEFAULT_DICE_SMOOTH): tf.Tensor1D {
  const masks = checkMaskPair('diceLossPerMask', logits, targets);
  return tf.tidy(() => {
    const p = perMaskRows(tf.sigmoid(logits), masks);
    const t = perMaskRows(targets.toFloat(), masks);
    const numerator = tf.add(tf.mul(tf.sum(tf.mul(p, t), 1), 2), smooth);
    const denominator = tf.add(tf.add(tf.sum(p, 1), tf.sum(t, 1)), smooth);
    return tf.sub(1, tf.div(numerator, denominator));
  });
}

/**
 * Dice loss of a batch, a scalar: the per-mask losses summed over the `B*M` masks and divided by
 * their number.
 * @param logits mask logits `[B,M,H,W]`
 * @param targets binary targets `[B,M,H,W]`
 */
export function diceLoss(logits: tf.Tensor, targets: tf.Tensor, smooth = DEFAULT_DICE_SMOOTH): tf.Scalar {
  return tf.tidy(() => diceLossPerMask(logits, targets, smooth).mean());
}
