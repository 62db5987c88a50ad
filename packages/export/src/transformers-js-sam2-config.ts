/**
 * The JSON files of a transformers.js `sam2` folder (`config.json`, `preprocessor_config.json`), and
 * the prompt recipe an app follows (see `transformers-js-sam2.ts`). The folder's file names are the
 * SAM 1 folder's (`TRANSFORMERS_JS_FILES`): transformers.js loads both model types from the same
 * `onnx/vision_encoder.onnx` + `onnx/prompt_encoder_mask_decoder.onnx` pair.
 */
import { SAMTUNE_VERSION, type DecoderVariant } from './contract.js';
import type { Sam2ExportSource } from './sam2-export.js';

/** How a transformers.js app gives prompts to a samtune `sam2` export (also written into samtune.json). */
export const TRANSFORMERS_JS_SAM2_PROMPT_RECIPE =
  'processor(image, { input_points, input_labels }) and/or { input_boxes }, in ORIGINAL pixels: a point is ' +
  'input_points [[[x, y]]] with input_labels [[1]] (0 background); a box is input_boxes [[[x0, y0, x1, y1]]]. ' +
  'The graph puts the box corners (labels 2, 3) before the points and always appends the padding point, as ' +
  'SAM2ImagePredictor does. One prompt per call: point batch 1, at most one box.';

/**
 * `preprocessor_config.json`: `Sam2Processor` / `Sam2ImageProcessor` (transformers.js' SAM image
 * processor): resize to SxS WITHOUT keeping the aspect ratio, no padding, /255, the model's mean/std
 * on the 0-1 scale (SAM 2.1's pre-processing; transformers.js resizes the uint8 image, so only an
 * image already SxS, or an exact 2x/4x upscale, gets exactly the official input).
 */
export function transformersJsSam2PreprocessorConfig(model: Sam2ExportSource): Record<string, unknown> {
  const s = model.config.imageEncoder.imgSize;
  const unit = (v: readonly number[]): number[] => v.map((x) => x / 255);
  return {
    processor_class: 'Sam2Processor',
    image_processor_type: 'Sam2ImageProcessor',
    do_convert_rgb: true,
    do_resize: true,
    size: { height: s, width: s },
    resample: 2,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: unit(model.config.pixelMean),
    image_std: unit(model.config.pixelStd),
    do_pad: false,
    mask_size: { height: s / 4, width: s / 4 },
  };
}

/** `config.json`: what transformers.js reads (`model_type`, `vision_config.num_feature_levels`, dtype) plus the sizes. */
export function transformersJsSam2Config(model: Sam2ExportSource, variant: DecoderVariant): Record<string, unknown> {
  const c = model.config;
  return {
    model_type: 'sam2',
    architectures: ['Sam2Model'],
    'transformers.js_config': { dtype: 'fp32' },
    vision_config: {
      image_size: c.imageEncoder.imgSize,
      num_feature_levels: 3,
      fpn_hidden_size: c.promptEncoder.embedDim,
      backbone_feature_sizes: [4, 2, 1].map((f) => [
        f * c.promptEncoder.imageEmbeddingSize[0],
        f * c.promptEncoder.imageEmbeddingSize[1],
      ]),
    },
    prompt_encoder_config: {
      hidden_size: c.promptEncoder.embedDim,
      image_size: c.imageEncoder.imgSize,
    },
    mask_decoder_config: {
      hidden_size: c.maskDecoder.transformerDim,
      num_multimask_outputs: c.maskDecoder.numMultimaskOutputs,
      dynamic_multimask_via_stability: c.maskDecoder.dynamicMultimaskViaStability,
      dynamic_multimask_stability_delta: c.maskDecoder.dynamicMultimaskStabilityDelta,
      dynamic_multimask_stability_thresh: c.maskDecoder.dynamicMultimaskStabilityThresh,
    },
    samtune: { model: c.name, decoder_variant: variant, version: SAMTUNE_VERSION },
  };
}
