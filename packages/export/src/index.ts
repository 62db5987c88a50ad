/** @samtune/export: Exports SAM encoders and decoders to ONNX with the official SAM export I/O contract, verified after writing. */
export {
  SAMTUNE_VERSION,
  EXPORT_OPSET,
  EXPORT_FILES,
  DECODER_INPUTS,
  DECODER_OUTPUTS,
  ENCODER_INPUT,
  ENCODER_RGB_INPUT,
  ENCODER_OUTPUT,
  POINT_LABEL,
  MASK_SELECTION_RULE,
  MULTIMASK_TOKENS,
  METADATA_KEYS,
  decoderInputSpecs,
  decoderOutputSpecs,
  encoderInputSpec,
  encoderOutputSpec,
  type DecoderVariant,
  type EncoderVariant,
  type TensorSpec,
} from './contract.js';
export {
  ExportVerificationError,
  OnnxPromptError,
  ModelDirError,
  ModelFileChangedError,
  ModelCapabilityError,
  EncoderInputError,
} from './errors.js';
export { recordDecoderGraph, type DecoderGraphOptions } from './decoder-graph.js';
export { recordEncoderGraph } from './encoder-graph.js';
export { selectMaskInGraph, postprocessInGraph, normalizeAndPadInGraph } from './graph-steps.js';
export { decoderFeeds, promptsToFrame, type DecoderFeeds, type FramePrompts } from './prompts.js';
export {
  readModelJson,
  writeModelJson,
  isExportDir,
  modelFilePath,
  checkedModelFile,
  MODEL_JSON_FORMAT,
  MODEL_JSON_VERSION,
  type ModelJson,
  type ModelFileEntry,
  type EncoderEntry,
  type DecoderEntry,
  type VerificationSummary,
} from './model-json.js';
export {
  verifyDecoderFile,
  verifyDecoderFiles,
  verificationCases,
  verificationEmbedding,
  VERIFY_ORIGINAL_SIZE,
  type VerifyCase,
} from './verify-decoder.js';
export { verifyEncoderFiles, verificationImage, VERIFY_IMAGE_SIZE, type EncoderReference } from './verify-encoder.js';
export { deleteModelFile } from './verify-common.js';
export {
  exportSamOnnx,
  exportDecoderModel,
  exportDecoderModels,
  exportEncoderModels,
  ExportTargetError,
  type ExportSource,
  type ExportComponent,
  type ExportOptions,
  type ExportResult,
} from './export-model.js';
export { OnnxSamModel, type OnnxSamModelOptions, type OnnxPredictOptions, type DecoderOutputs } from './runner.js';
export {
  exportTransformersJs,
  transformersJsDecoderFeeds,
  verifyTransformersJsDecoder,
  type TransformersJsOptions,
  type TransformersJsResult,
} from './transformers-js.js';
export {
  transformersJsConfig,
  transformersJsPreprocessorConfig,
  TRANSFORMERS_JS_FILES,
  TRANSFORMERS_JS_PROMPT_RECIPE,
} from './transformers-js-config.js';
export {
  recordVisionEncoderGraph,
  recordPromptMaskDecoderGraph,
  TJS_NAMES,
  TJS_PADDING_LABEL,
  type PromptMaskDecoderGraphOptions,
} from './transformers-js-graphs.js';
export {
  openPromptModel,
  openSam2PromptModel,
  readMaskInputFile,
  encodePrediction,
  MaskInputError,
  type PromptModel,
  type OpenPromptModelOptions,
} from './prompt-model.js';
export { recordSam2DecoderGraph, SAM2_DECODER_INPUTS, SAM2_DECODER_OUTPUTS } from './sam2-decoder-graph.js';
export {
  exportSam2Onnx,
  verifySam2EncoderFile,
  SAM2_EXPORT_FILES,
  type Sam2EncoderCheck,
  type Sam2ExportSource,
  type Sam2ExportOptions,
  type Sam2ExportResult,
} from './sam2-export.js';
export {
  exportSam2TransformersJs,
  SAM2_MASK_SELECTION_RULE,
  type Sam2TransformersJsOptions,
} from './transformers-js-sam2.js';
export { sam2TransformersJsDecoderFeeds, verifySam2TransformersJsDecoder } from './transformers-js-sam2-verify.js';
export {
  transformersJsSam2Config,
  transformersJsSam2PreprocessorConfig,
  TRANSFORMERS_JS_SAM2_PROMPT_RECIPE,
} from './transformers-js-sam2-config.js';
export {
  recordSam2VisionEncoderGraph,
  recordSam2PromptMaskDecoderGraph,
  selectSam2MaskInGraph,
  TJS_SAM2_NAMES,
  type Sam2PromptMaskDecoderGraphOptions,
} from './transformers-js-sam2-graphs.js';
