/** @samtune/quantize-ptq: Post-training INT8 quantization (QDQ) of exported SAM models, calibrated on your data, with an accuracy gate. */
export {
  activationParams,
  quantizeWeight,
  quantizeBias,
  quantizeUint8,
  roundHalfToEven,
  QuantParamsError,
  MIN_SCALE,
  type ActivationParams,
  type QuantizedWeight,
} from './qparams.js';
export { TensorStats, CalibrationStatsError, DEFAULT_BINS, type TensorRange } from './histogram.js';
export { ModelGraph, QuantizeModelError } from './model-graph.js';
export {
  planQdq,
  isExcluded,
  nodeLabel,
  DEFAULT_QUANT_OPS,
  type QdqOptions,
  type QdqPlan,
  type NodePlan,
  type WeightPlan,
  type SkippedNode,
  type QuantizableOp,
} from './qdq-plan.js';
export { applyQdq, initializerFloats, QUANTIZATION_METADATA_KEY, type QdqSummary } from './qdq-apply.js';
export {
  collectStats,
  rangesFrom,
  withExtraOutputs,
  observedShapes,
  type ObservedShape,
  CalibrationError,
  DEFAULT_PERCENTILE,
  type CalibrationMethod,
  type CalibrateOptions,
  type CalibrationStats,
  type Feeds,
} from './calibrate.js';
export {
  quantizeStatic,
  toModelProto,
  ExternalDataError,
  type StaticQuantizeOptions,
  type QuantizeResult,
  type ModelInput,
} from './quantize.js';
export { quantizeDynamic, type DynamicQuantizeOptions } from './quantize-dynamic.js';
export {
  measureLatency,
  measureLatencies,
  quantile,
  fileBytes,
  machineSummary,
  LatencyOptionsError,
  MIN_LATENCY_RUNS,
  type LatencyOptions,
  type LatencyStats,
} from './latency.js';
export {
  gateDecision,
  enforceGate,
  f1DropPoints,
  refusalMessage,
  withinGate,
  GATE_EPSILON_POINTS,
  AccuracyGateError,
  GateOptionsError,
  DEFAULT_MAX_F1_DROP,
  type GateDecision,
  type SegmentationScores,
} from './gate.js';
export {
  pickCalibrationItems,
  encoderCalibrationFeeds,
  decoderCalibrationFeeds,
  CalibrationDataError,
  type EncoderPreprocess,
  type EmbeddingSource,
  type DecoderCalibrationOptions,
  type SourceEmbedding,
  type DecoderFeedMaker,
} from './calibration-data.js';
export { compareOutputs, type OutputFidelity, type FidelityResult } from './fidelity.js';
export { reportMarkdown, writeReport, type PtqReport, type ComponentReport, type ModelMeasure } from './report.js';
export {
  optimizeExportDir,
  optimizeLayout,
  type ExportLayout,
  type OptimizeLayoutOptions,
  DEFAULT_EXCLUDES,
  DEFAULT_OP_TYPES,
  type Component,
  type EvalTarget,
  type PairEvaluator,
  type SampleFactory,
  type OptimizeExportOptions,
  type OptimizeResult,
} from './optimize-dir.js';
export { optimizeWithDataset, onnxPairEvaluator, type OptimizeWithDatasetOptions } from './optimize-recipe.js';
export { optimizeSam2WithDataset, isSam2ExportDir, sam2DecoderFeeds, Sam2OnnxPair } from './sam2-optimize.js';
