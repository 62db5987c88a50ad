/**
 * @samtune/evaluation: what training, quantization and the apps share to score a model: pixel
 * metrics (F1/IoU/Dice, COCO mask AP), `evaluate` / `evaluateModel` / `evaluateCheckpoint` for any prompt -> mask
 * model (in-process or an exported ONNX pair), `scorePredictions` for any tool's COCO results file,
 * the embedding cache keyed by the image encoder, and the runtime/dataset/model setup. Targets and
 * prompts come from @samtune/training-data (the same as training's).
 */
export {
  MetricAccumulator,
  MetricInputError,
  metricsFromCounts,
  type ConfusionCounts,
  type SegmentationMetrics,
  type PixelArray,
  type PredictionKind,
} from './metrics.js';
export {
  MaskApAccumulator,
  MaskApInputError,
  AP_IOU_THRESHOLDS,
  AP_MAX_DETECTIONS,
  type MaskApResult,
  type ApGroundTruth,
  type ApDetection,
  type ApImageId,
  type ApMatch,
} from './mask-ap.js';
export {
  EmbeddingCache,
  EmbeddingCacheError,
  defaultEmbeddingCacheDir,
  imageEncoderKey,
  PREPROCESS_VERSION,
  PREPROCESS_VERSION_SAM2,
  EMBEDDING_TENSOR,
  type EmbeddingFamily,
  type ImageEmbedder,
  type Sam2ImageEmbedder,
  type CachedEmbedding,
  type FillProgress,
  type FillStats,
  type FillOptions,
  type EmbeddingCacheOptions,
} from './embedding-cache.js';
export { scorePredictions, readPredictions, PredictionsFileError, type PredictionScores } from './score-predictions.js';
export { evaluate, type EvalResult, type EvaluateOptions } from './evaluate.js';
export { EvaluateError } from './evaluate-error.js';
export { sam2EvalDecoder, sam2OrtEvalDecoder } from './sam2-eval-decoder.js';
export {
  ortEvalDecoder,
  tfjsEvalDecoder,
  type DecodedChunk,
  type EvalDecoder,
  type PredictedMask,
} from './eval-decoder.js';
export { evaluateModel, type BoxPromptModel, type EvaluateModelOptions } from './evaluate-model.js';
export {
  evaluateCheckpoint,
  type EvaluateCheckpointOptions,
  type CheckpointEvaluation,
  type SkippedInput,
} from './evaluate-checkpoint.js';
export { type EvalEvent, type EvalEventHandler } from './events.js';
export {
  setupRuntime,
  backendEvent,
  openDataset,
  openSplitDataset,
  DEFAULT_VAL_FRACTION,
  openModel,
  openSam2Model,
  pickSubset,
  canonicalSubsetName,
  usableItems,
  SubsetError,
  VAL_SUBSET_CANDIDATES,
  type RuntimeInfo,
  type SplitSpec,
  type ModelContext,
  type Sam2ModelContext,
} from './setup.js';
export {
  labelPrompt,
  type LabelModel,
  type CocoLabelDocument,
  type PromptLabel,
  type PromptLabelResult,
} from './label-prompt.js';
export {
  ClicksAccumulator,
  ClicksInputError,
  clickSequence,
  maskIoU,
  nextClick,
  type Click,
  type ClickPrediction,
  type ClickPredictor,
  type ClickProtocolOptions,
  type ClicksResult,
} from './clicks-to-quality.js';
export { evaluateClicks, type EvaluateClicksOptions } from './evaluate-clicks.js';
