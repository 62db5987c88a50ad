/**
 * Sigmoid focal loss on logits (Lin et al. 2017), as torchvision's `sigmoid_focal_loss`:
 * `ce = BCEWithLogits(x, t)`, `p_t = p*t + (1-p)*(1-t)`, `loss = alpha_t * ce * (1 - p_t)^gamma`
 * with `p = sigmoid(x)` and `alpha_t = alpha*t + (1-alpha)*(1-t)`.
 */
import * as tf from '@tensorflow/tfjs';
import { checkMaskPair, perMaskRows } from './shapes.js';

/** Focal-loss parameters (torchvision's defaults, also the SAM fine-tuning recipe's). */
export interface FocalOptions {
  /** Weight of the positive class; `alpha_t = alpha*t + (1-alpha)*(1-t)`. Negative disables it. Default 0.25. */
  readonly alpha?: number;
  /** Focusing exponent on `(1 - p_t)`. Default 2. */
  readonly gamma?: number;
}

export const DEFAULT_FOCAL_ALPHA = 0.25;
export const DEFAULT_FOCAL_GAMMA = 2;

/**
 * Per-pixel focal loss `[B,M,H,W]` (no reduction). The cross-entropy is computed in the stable
 * form `softplus(x) - x*t` (= `max(x,0) - x*t + log1p(exp(-|x|))`), whose gradient is exactly
 * `sigmoid(x) - t`, like torch's `binary_cross_entropy_with_logits`.
 * @param logits mask logits `[B,M,H,W]`
 * @param targets binary targets (0/1 floats) `[B,M,H,W]`
 */
export function focalLossPixels(logits: tf.Tensor, targets: tf.Tensor, options: FocalOptions = {}): tf.Tensor {
  checkMaskPair('focalLossPixels', logits, targets);
  const alpha = options.alpha ?? DEFAULT_FOCAL_ALPHA;
  const gamma = options.gamma ?? DEFAULT_FOCAL_GAMMA;
  return tf.tidy(() => {
    const t = targets.toFloat();
    const p = tf.sigmoid(logits);
    const ce = tf.sub(tf.softplus(logits), tf.mul(logits, t));
    // 1 - p_t = p*(1-t) + (1-p)*t = p + t - 2*p*t
    const oneMinusPt = tf.sub(tf.add(p, t), tf.mul(tf.mul(p, t), 2));
    const modulated = gamma === 2 ? tf.mul(ce, tf.square(oneMinusPt)) : tf.mul(ce, tf.pow(oneMinusPt, gamma));
    if (alpha < 0) return modulated;
    const alphaT = tf.add(tf.mul(t, alpha), tf.mul(tf.sub(1, t), 1 - alpha));
    return tf.mul(alphaT, modulated);
  });
}

/**
 * Focal loss per mask: the mean over the `H*W` pixels of each mask, `[B*M]` (row `b*M + m`).
 * @param logits mask logits `[B,M,H,W]`
 * @param targets binary targets `[B,M,H,W]`
 */
export function focalLossPerMask(logits: tf.Tensor, targets: tf.Tensor, options: FocalOptions = {}): tf.Tensor1D {
  const masks = checkMaskPair('focalLossPerMask', logits, targets);
  return tf.tidy(() => perMaskRows(focalLossPixels(logits, targets, options), masks).mean(1));
}

/**
 * Focal loss of a batch, a scalar: mean over pixels per mask, then summed over the `B*M` masks and
 * divided by their number (so, with equal-size masks, the mean over all pixels).
 * @param logits mask logits `[B,M,H,W]`
 * @param targets binary targets `[B,M,H,W]`
 */
export function focalLoss(logits: tf.Tensor, targets: tf.Tensor, options: FocalOptions = {}): tf.Scalar {
  return tf.tidy(() => focalLossPerMask(logits, targets, options).mean());
}
