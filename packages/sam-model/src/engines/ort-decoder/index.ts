export {
  OrtDecoder,
  engineSessionOptions,
  maskOutputOf,
  postprocessOutputs,
  singlePromptOutputs,
  type ExecutionProvider,
  type OrtDecoderOptions,
  type DecodeOptions,
  type DecodeResult,
  type BatchDecodeResult,
} from './ort-decoder.js';
export { recordDecoderGraph, denseEmbedding, DECODER_GRAPH_OPSET, type DecoderGraphOptions } from './decoder-graph.js';
export {
  recordImageSideGraph,
  recordPromptGraph,
  densePeInGraph,
  IMAGE_SIDE_NAMES,
  type SplitGraphOptions,
  type ImageSideName,
  type PromptGraphOptions,
} from './split-graphs.js';
export { headSizeFor, croppedMaskUpscaler } from './cropped-head.js';
export { recordPostprocessGraph, maskOutputsInGraph, type MaskOutputKind } from './postprocess-graph.js';
export {
  selectMaskInGraph,
  postprocessInGraph,
  cropResizeInGraph,
  thresholdInGraph,
  toUint8InGraph,
  rleChangesInGraph,
} from './graph-steps.js';
export { rleFromChanges, RleChangesError, type MaskRle } from './rle.js';
export { pointFeeds, type PointFeeds } from './prompts.js';
export { upscaleMasksChannelsLast } from './upscale.js';
export { WasmGraphOps, type WasmGraphOpsOptions } from './wasm-ops.js';
