/** @samtune/sam-model: Segment Anything in TypeScript. */
export {
  floatTensor,
  toFloat32,
  TensorShapeError,
  type HostTensor,
  type FloatTensor,
  type WeightMap,
} from '@samtune/tensor';
export * from './config.js';
export { initBackend, BackendUnavailableError, type BackendInfo, type BackendName } from './ops/backend.js';
export {
  AgreementTally,
  compareArrays,
  compareTensors,
  DEFAULT_ATOL,
  DEFAULT_RTOL,
  ShapeMismatchError,
  type Agreement,
} from './compare.js';
export { initWeightsFromShapes, mulberry32 } from './init.js';
export { inferSamConfig, sameArchitecture, ConfigInferenceError } from './checkpoint/infer-config.js';
export {
  expectedShapes,
  validateWeights,
  isOptionalKey,
  isIgnoredKey,
  CheckpointKeysError,
} from './checkpoint/expected-shapes.js';
export { checkFiniteWeights, findNonFinite, NonFiniteWeightsError, type NonFiniteTensor } from './checkpoint/finite.js';
export { CHECKPOINT_REGISTRY, publishedCheckpoint, type PublishedCheckpoint } from './checkpoint/registry.js';
export {
  resolveCheckpoint,
  resolveCheckpointDetailed,
  sha256File,
  defaultCacheDir,
  UnknownCheckpointError,
  CheckpointUnavailableError,
  ChecksumMismatchError,
  type ResolveCheckpointOptions,
  type ResolvedCheckpoint,
} from './checkpoint/download.js';
export {
  loadSamCheckpoint,
  writeSamSafetensors,
  writeFineTunedSafetensors,
  SAMTUNE_CONFIG_KEY,
  CheckpointFormatError,
  type LoadSamCheckpointOptions,
  type LoadedSamCheckpoint,
} from './checkpoint/load.js';
export {
  BASE_CHECKPOINT_KEY,
  BaseCheckpointMissingError,
  BaseCheckpointMismatchError,
  BaseCheckpointNestedError,
  readBaseCheckpointRef,
  type BaseCheckpointRef,
} from './checkpoint/fine-tuned.js';
export * from './image-encoder/index.js';
export * from './sam2/index.js';
export {
  installOrtKernels,
  OrtKernelsInstallError,
  OrtBindingError,
  type OrtKernelsOptions,
  type OrtKernelsHandle,
} from './runtime/tfjs-ort-kernels.js';
export {
  preparePromptEncoderWeights,
  embedPoints,
  embedBoxes,
  embedMasks,
  noMaskDense,
  densePe,
  PromptShapeError,
  PROMPT_ENCODER_PREFIX,
  PE_GAUSSIAN_KEY,
  DENSE_PE_KEY,
} from './prompt-encoder.js';
export {
  maskDecoder,
  predictMasks,
  maskDecoderImageSide,
  predictMasksOnImageSide,
  MaskDecoderShapeError,
  MASK_DECODER_PREFIX,
  upscaleMasks,
  type DecoderPlan,
  type DecoderVariant,
  type DecoderTokenOutputs,
} from './mask-decoder.js';
export { TransformerShapeError, flattenImageSide, type TwoWayOptions } from './two-way-transformer.js';
export { preprocessShape, applyCoords, applyBoxes, FrameGeometryError } from './postprocess.js';
export {
  SamPredictor,
  PredictorInputError,
  type SamPredictorOptions,
  type PredictPrompts,
  type PredictOptions,
  type PredictResult,
  type BatchPredictResult,
  type Point,
  type Box,
} from './predictor.js';
export {
  SamModel,
  writeEmbedding,
  readEmbedding,
  embeddingTensors,
  highResFeatsOf,
  EMBEDDING_TENSORS,
  EmbeddingFileError,
  type ImageEmbedding,
  type ModelSource,
  type DecoderEngine,
  type SamModelOptions,
} from './sam.js';
export * from './engines/ort-decoder/index.js';
export { useMultimask, selectMaskIndex, type PromptShape } from './mask-selection.js';
export { containedPath, PathOutsideFolderError, type ContainedPathOptions } from './fs-contained.js';
// SAM 2.1 decoder side: prompt encoder, mask decoder, predictor rules (issue 25).
export { SAM2_DECODER_CONFIG, type Sam2DecoderConfig } from './sam2/mask-decoder-config.js';
export { sam2PromptEncoder, type Sam2PromptInputs } from './sam2/prompt-encoder.js';
export {
  sam2PredictMasks,
  sam2ProjectHighRes,
  type Sam2MaskDecoderInputs,
  type Sam2MaskDecoderOutputs,
} from './sam2/mask-decoder.js';
export {
  sam2ApplyCoords,
  sam2StabilityScore,
  selectSam2Masks,
  clampLogits,
  sam2OriginalSizeMasks,
  SAM2_LOW_RES_CLAMP,
  type Sam2Selection,
} from './sam2/predictor-postprocess.js';
export {
  sam2PredictorWeights,
  sam2OfficialKey,
  isTrainableDecoderKey,
  FROZEN_DECODER_PREFIXES,
} from './sam2/predictor-weights.js';
export {
  Sam2Predictor,
  type Sam2PredictorFeatures,
  type Sam2PredictResult,
  type Sam2PredictorOptions,
} from './sam2/predictor.js';
export {
  Sam2OrtDecoder,
  sam2PointFeeds,
  type Sam2OrtDecoderConfig,
  type Sam2DecodeResult,
  type Sam2BatchDecodeResult,
  type Sam2Extras,
} from './sam2/ort-decoder.js';
export {
  sam2DecoderGraph,
  sam2DecoderOps,
  sam2DecodeInGraph,
  recordSam2EngineGraph,
  type Sam2DecoderGraph,
  type Sam2DecoderGraphOptions,
} from './sam2/decoder-graph.js';
export { recordSam2PostprocessGraph } from './sam2/postprocess-graph.js';
export { TfDecoderWeights } from './tf-decoder-weights.js';
