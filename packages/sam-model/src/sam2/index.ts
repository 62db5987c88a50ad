/** SAM 2.1 image mode: config from shapes, checkpoint loading, the Hiera + FPN image encoder on onnxruntime. */
export {
  inferSam2Config,
  officialHieraLayout,
  sam2Config,
  sam2Preset,
  SAM2_HIERA_LAYOUTS,
  SAM2_MASK_DECODER,
  SAM2_PROMPT_ENCODER,
  SAM2_EMBED_SIZE,
  Sam2ConfigError,
  UnknownHieraLayoutError,
  Sam2CheckpointForSam1Error,
  isSam2Keys,
  isSam2Config,
  type HieraConfig,
  type HieraFacts,
  type HieraLayout,
  type Sam2Config,
  type Sam2PresetName,
  type Sam2MaskDecoderConfig,
  type ShapeMap,
} from './config.js';
export {
  loadSam2Checkpoint,
  writeSam2Safetensors,
  isSam2ImageModeKey,
  shapesOf,
  expectedSam2EncoderShapes,
  Sam2CheckpointKeysError,
  SAM2_IMAGE_MODE_PREFIXES,
  SAM2_IMAGE_MODE_KEYS,
  type LoadSam2CheckpointOptions,
  type LoadedSam2Checkpoint,
} from './checkpoint.js';
export { hieraBlocks, hieraStageEnds, HIERA_PATCH_STRIDE, type HieraBlockLayout } from './hiera-layout.js';
export { hieraPosEmbed } from './hiera-pos-embed.js';
export { hieraBlock, hieraAttention, maxPool2x2, HIERA_NORM_EPS } from './hiera-block.js';
export { hieraTrunk, HIERA_POS_EMBED_KEY } from './hiera.js';
export { fpnNeck, upsampleNearest2x } from './fpn-neck.js';
export {
  sam2ImageEncoder,
  Sam2EncoderInputError,
  NO_MEM_EMBED_KEY,
  SAM2_ENCODER_PREFIX,
  SAM2_DECODER_PREFIX,
  type Sam2ImageFeatures,
} from './image-encoder.js';
export { prepareSam2EncoderWeights, isSam2EncoderKey } from './prepare.js';
export {
  recordSam2EncoderGraph,
  buildSam2EncoderOnnx,
  saveSam2EncoderOnnx,
  Sam2EncoderSession,
  SAM2_ENCODER_INPUT,
  SAM2_ENCODER_OUTPUTS,
  SAM2_RAW_LEVEL_OUTPUTS,
  type Sam2EncoderOptions,
  type Sam2Embedding,
} from './onnx-encoder.js';
export { checkpointFamily, type ModelFamily } from './family.js';
export { Sam2EmbeddingModel } from './embedding-model.js';
export { Sam2Model, Sam2EmbeddingError, type Sam2ModelOptions } from './model.js';
