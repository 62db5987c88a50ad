/**
 * @samtune/losses: the SAM fine-tuning loss (20 * focal + dice + IoU-MSE), written once against
 * `TrainOps<T>`: evaluated eagerly on tfjs (`TfjsOps`) and recorded into ONNX training graphs
 * (`OnnxGraphOps`); `OrtSamLoss` runs the recorded form on plain buffers (validation).
 */
export {
  samLossOn,
  resolveLossWeights,
  LossShapeError,
  DEFAULT_LOSS_WEIGHTS,
  DEFAULT_FOCAL_ALPHA,
  DEFAULT_FOCAL_GAMMA,
  DEFAULT_DICE_SMOOTH,
  type LossWeights,
  type SamLossConfig,
  type SamLossOptions,
  type SamLossValues,
} from './sam-loss-on.js';
export { OrtSamLoss } from './ort-sam-loss.js';
export { checkLossShapes, focalAndDice, type MaskTerms } from './sam-loss-on.js';
export {
  sam2LossOn,
  DEFAULT_SAM2_LOSS_WEIGHTS,
  type Sam2LossConfig,
  type Sam2LossValues,
  type Sam2LossWeights,
} from './sam2-loss-on.js';
