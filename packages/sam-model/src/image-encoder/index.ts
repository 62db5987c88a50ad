/** SAM image encoders (TinyViT / ViT), written once against `Ops<T>`, and their onnxruntime path. */
export { imageEncoder, ImageEncoderInputError, UnpreparedWeightsError } from './image-encoder.js';
export {
  prepareImageEncoderWeights,
  foldConvBatchNorm,
  gatherAttentionBiases,
  attentionBiasIndices,
  gatherRelPos,
  fusedConvKeys,
  attentionBiasKey,
  relPosTableKey,
  vitAttentionSize,
  tinyVitConvBnPrefixes,
  IMAGE_ENCODER_PREFIX,
  BATCH_NORM_EPS,
  ImageEncoderWeightError,
  RelPosInterpolationError,
} from './prepare.js';
export { tinyVitEncoder, EncoderGridError } from './tiny-vit.js';
export { vitEncoder, vitBlock, VIT_NORM_EPS } from './vit.js';
export { vitAttention, type VitAttentionOptions } from './vit-attention.js';
export {
  conv2dBn,
  mbConv,
  patchMerging,
  patchMergingStride,
  tinyVitAttention,
  tinyVitBlock,
  tinyVitMlp,
  tinyVitPatchEmbed,
  TINY_VIT_NORM_EPS,
  type TinyVitBlockOptions,
} from './tiny-vit-blocks.js';
export { neck } from './neck.js';
export { windowPartition, windowUnpartition, windowPad, type WindowGrid } from './window.js';
export {
  buildImageEncoderOnnx,
  saveImageEncoderOnnx,
  recordImageEncoderGraph,
  ImageEncoderSession,
  type ImageEncoderSessionOptions,
  EmbedInputError,
  IMAGE_ENCODER_INPUT,
  IMAGE_ENCODER_OUTPUT,
} from './onnx-encoder.js';
