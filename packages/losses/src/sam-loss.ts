/**
 * The SAM fine-tuning loss: `weights.focal * focal + weights.dice * dice + weights.iou * iou_mse`,
 * each part computed per mask and then summed over the masks and divided by their number.
 * With the defaults (20, 1, 1) this is the loss of the reference fine-tuning recipe and of the
 * golden fixtures (`loss.safetensors`, `tinyvit_train_step.safetensors`).
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_DICE_SMOOTH, diceLossPerMask } from './dice.js';
import { DEFAULT_FOCAL_ALPHA, DEFAULT_FOCAL_GAMMA, focalLossPerMask } from './focal.js';
import { iouMseLossPerMask } from './iou-mse.js';

/** Weights of the three loss parts. */
export interface LossWeights {
  /** Weight of the sigmoid focal loss. Default 20. */
  readonly focal: number;
  /** Weight of the Dice loss. Default 1. */
  readonly dice: number;
  /** Weight of the IoU-prediction MSE. Default 1. */
  readonly iou: number;
}

/** The reference weights: `20 * focal + dice + iou_mse`. */
export const DEFAULT_LOSS_WEIGHTS: Readonly<LossWeights> = Object.freeze({ focal: 20, dice: 1, iou: 1 });

/** Configuration of `samLoss`; every field is optional and defaults to the reference recipe. */
export interface SamLossConfig {
  /** Part weights, merged over `DEFAULT_LOSS_WEIGHTS`. */
  readonly weights?: Partial<LossWeights>;
  /** Focal `alpha` (default 0.25). */
  readonly focalAlpha?: number;
  /** Focal `gamma` (default 2). */
  readonly focalGamma?: number;
  /** Dice smoothing (default 1). */
  readonly diceSmooth?: number;
}

/** The batch loss and its unweighted parts, all scalars (the caller disposes them). */
export interface SamLossResult {
  /** `focal*wf + dice*wd + iou*wi`: the value to differentiate. */
  readonly loss: tf.Scalar;
  /** Focal loss: per-mask mean over pixels, averaged over masks (unweighted). */
  readonly focal: tf.Scalar;
  /** Dice loss averaged over masks (unweighted). */
  readonly dice: tf.Scalar;
  /** IoU-prediction MSE averaged over masks (unweighted). */
  readonly iou: tf.Scalar;
}

/** `DEFAULT_LOSS_WEIGHTS` with `config.weights` applied. */
export function resolveLossWeights(config: SamLossConfig = {}): LossWeights {
  return { ...DEFAULT_LOSS_WEIGHTS, ...config.weights };
}

/**
 * SAM fine-tuning loss of a batch.
 * @param logits mask logits `[B,M,H,W]` (the decoder's low-res masks, usually `[B,1,256,256]`)
 * @param targets binary targets (0/1) at the logits' resolution, `[B,M,H,W]`
 * @param iouPredictions the decoder's IoU predictions `[B,M]`
 * @returns scalars `{ loss, focal, dice, iou }`; differentiate `loss` (e.g. with `tf.grads`).
 * @throws LossShapeError on mismatched shapes.
 */
export function samLoss(
  logits: tf.Tensor,
  targets: tf.Tensor,
  iouPredictions: tf.Tensor,
  config: SamLossConfig = {},
): SamLossResult {
  const w = resolveLossWeights(config);
  return tf.tidy(() => {
    const focal = focalLossPerMask(logits, targets, {
      alpha: config.focalAlpha ?? DEFAULT_FOCAL_ALPHA,
      gamma: config.focalGamma ?? DEFAULT_FOCAL_GAMMA,
    }).mean() as tf.Scalar;
    const dice = diceLossPerMask(logits, targets, config.diceSmooth ?? DEFAULT_DICE_SMOOTH).mean() as tf.Scalar;
    const iou = iouMseLossPerMask(logits, targets, iouPredictions).mean() as tf.Scalar;
    const loss = tf.addN([tf.mul(focal, w.focal), tf.mul(dice, w.dice), tf.mul(iou, w.iou)]) as tf.Scalar;
    return { loss, focal, dice, iou };
  });
}
