/** @samtune/losses: SAM fine-tuning losses: 20 * focal + dice + IoU-MSE, as pure tfjs functions. */
export { LossShapeError } from './shapes.js';
export {
  focalLoss,
  focalLossPerMask,
  focalLossPixels,
  DEFAULT_FOCAL_ALPHA,
  DEFAULT_FOCAL_GAMMA,
  type FocalOptions,
} from './focal.js';
export { diceLoss, diceLossPerMask, DEFAULT_DICE_SMOOTH } from './dice.js';
export { iouMseLoss, iouMseLossPerMask, maskIou } from './iou-mse.js';
export {
  samLoss,
  resolveLossWeights,
  DEFAULT_LOSS_WEIGHTS,
  type LossWeights,
  type SamLossConfig,
  type SamLossResult,
} from './sam-loss.js';
