/**
 * The JSON files of a transformers.js SAM folder (`config.json`, `preprocessor_config.json`), its
 * file names, and the prompt recipe an app follows (see `transformers-js.ts`).
 */
import { SAMTUNE_VERSION, type DecoderVariant } from './contract.js';
import type { ExportSource } from './export-model.js';

/** Files of a transformers.js folder (paths relative to it). */
export const TRANSFORMERS_JS_FILES = {
  config: 'config.json',
  preprocessor: 'preprocessor_config.json',
  visionEncoder: 'onnx/vision_encoder.onnx',
  decoder: 'onnx/prompt_encoder_mask_decoder.onnx',
  samtune: 'samtune.json',
} as const;

/** How a transformers.js app gives prompts to a samtune export (also written into samtune.json). */
export const TRANSFORMERS_JS_PROMPT_RECIPE =
  'processor(image, { input_points, input_labels }) with points in ORIGINAL pixels: a point is [[[x, y]]] with ' +
  'input_labels [[1]] (0 background); a box x0,y0,x1,y1 is two points [[[x0, y0], [x1, y1]]] with input_labels ' +
  '[[2, 3]] (points first, then the two corners). The graph appends the padding point itself when there is no box. ' +
  'input_boxes is not read (transformers.js SamModel needs input_points). One prompt per call (point batch 1).';

/** `preprocessor_config.json`: the official SAM preprocessing with samtune's mean/std in 0-255 units (no rescale). */
export function transformersJsPreprocessorConfig(model: ExportSource): Record<string, unknown> {
  const s = model.config.imageEncoder.imgSize;
  return {
    processor_class: 'SamProcessor',
    image_processor_type: 'SamImageProcessor',
    do_convert_rgb: true,
    do_resize: true,
    size: { longest_edge: s },
    resample: 2,
    do_rescale: false,
    rescale_factor: 1,
    do_normalize: true,
    image_mean: [...model.config.pixelMean],
    image_std: [...model.config.pixelStd],
    do_pad: true,
    pad_size: { height: s, width: s },
  };
}

/** `config.json`: what transformers.js reads (model_type, dtype) plus the model's dimensions. */
export function transformersJsConfig(model: ExportSource, variant: DecoderVariant): Record<string, unknown> {
  const c = model.config;
  return {
    model_type: 'sam',
    architectures: ['SamModel'],
    'transformers.js_config': { dtype: 'fp32' },
    vision_config: { image_size: c.imageEncoder.imgSize, output_channels: c.promptEncoder.embedDim },
    prompt_encoder_config: {
      hidden_size: c.promptEncoder.embedDim,
      image_embedding_size: c.promptEncoder.imageEmbeddingSize[0],
      image_size: c.imageEncoder.imgSize,
    },
    mask_decoder_config: {
      hidden_size: c.maskDecoder.transformerDim,
      num_multimask_outputs: c.maskDecoder.numMultimaskOutputs,
    },
    samtune: { model: c.name, decoder_variant: variant, version: SAMTUNE_VERSION },
  };
}
