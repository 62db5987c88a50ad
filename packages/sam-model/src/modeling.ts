/**
 * @samtune/sam-model/modeling: the building blocks of the model, for people who compose or record
 * SAM's layers themselves (like segment-anything's `modeling/`): the `Ops` interface and its tfjs
 * executor, the layers, the prompt encoder, the two-way transformer and mask decoder functions,
 * post-processing, and the tfjs->onnxruntime kernels. Users of `SamModel`, checkpoints and the
 * engines need only the main entry (`@samtune/sam-model`).
 */
export { MissingWeightError, type Ops, type Conv2dOptions } from '@samtune/tensor';
export { TfjsOps, type TfjsWeights } from './ops/tfjs-ops.js';
export { BACKEND_ORDER } from './ops/backend.js';
export {
  ParamScope,
  linear,
  layerNorm,
  layerNorm2d,
  conv2d,
  mlp,
  mlpBlock,
  activate,
  type Activation,
} from './layers.js';
export { tinyVitAttentionBiasIdxs } from './init.js';
export {
  DEFAULT_ORT_THRESHOLDS,
  ORT_KERNEL_NAMES,
  type OrtKernelName,
  type OrtKernelCounts,
  type OrtThresholds,
} from './runtime/tfjs-ort-kernels.js';
export {
  promptEncoder,
  densePositionalEncoding,
  embedMasks,
  encodeCoords,
  broadcastBatch,
  NUM_POINT_EMBEDDINGS,
  type PromptInputs,
  type PromptEmbeddings,
} from './prompt-encoder.js';
export { type MaskDecoderInputs, type MaskDecoderOutputs } from './mask-decoder.js';
export { twoWayTransformer, twoWayAttentionBlock, attention, type TwoWayState } from './two-way-transformer.js';
export { tokenToImageAttention, imageToTokenAttention } from './image-attention.js';
export { postprocessMasks } from './postprocess.js';
export { type TfPrompts } from './predictor.js';
