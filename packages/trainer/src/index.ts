/** @samtune/trainer: Fine-tunes the SAM mask decoder: embedding cache, batching, Adam, early stopping, metrics, atomic checkpoints, resume, report. */
export const PACKAGE_NAME = '@samtune/trainer';
export { Adam, OptimizerError, type AdamOptions, type AdamState } from './optimizer.js';
export {
  EarlyStopping,
  EarlyStoppingError,
  type EarlyStoppingOptions,
  type EarlyStoppingState,
  type EarlyStoppingDecision,
} from './early-stopping.js';
export {
  MetricAccumulator,
  MetricInputError,
  metricsFromCounts,
  type ConfusionCounts,
  type SegmentationMetrics,
  type PixelArray,
  type PredictionKind,
} from './metrics.js';
