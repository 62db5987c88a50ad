/**
 * `exportSam2TransformersJs`: a SAM 2.1 checkpoint as a folder that `@huggingface/transformers`
 * (transformers.js) loads with `Sam2Model.from_pretrained(dir)` / `AutoProcessor.from_pretrained(dir)`,
 * offline from a local path:
 *
 * ```
 * <dir>/config.json                              model_type "sam2", num_feature_levels 3, dtype "fp32"
 * <dir>/preprocessor_config.json                 Sam2Processor: stretch to SxS, /255, ImageNet mean/std, no pad
 * <dir>/onnx/vision_encoder.onnx                 pixel_values -> image_embeddings.0/.1/.2
 * <dir>/onnx/prompt_encoder_mask_decoder.onnx    embeddings + input_points/labels/boxes -> iou_scores,
 *                                                pred_masks, object_score_logits
 * <dir>/samtune.json                             checkpoint SHA-256, samtune version, prompt recipe, verification
 * ```
 *
 * I/O of the graphs: `transformers-js-sam2-graphs.ts`. Both are run by onnxruntime-node right after
 * writing: the encoder against an in-process encoder session (`verifySam2EncoderFile`), the decoder
 * (on the written encoder's features, fed as transformers.js feeds it) against the tfjs
 * `Sam2Predictor` with `Sam2Model.predict`'s `multimask: 'auto'` rule; tolerance
 * `1e-4 + 1e-3*max|ref|`; a failing file is deleted (`ExportVerificationError`). Staged like every
 * export (`writeStaged`, `config.json` last).
 */
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { checkFiniteWeights, sam2PredictorWeights } from '@samtune/sam-model';
import type { DecoderVariant } from './contract.js';
import { verifySam2EncoderFile, type Sam2ExportOptions, type Sam2ExportSource } from './sam2-export.js';
import { writeStaged } from './staging.js';
import { TRANSFORMERS_JS_FILES } from './transformers-js-config.js';
import {
  TRANSFORMERS_JS_SAM2_PROMPT_RECIPE,
  transformersJsSam2Config,
  transformersJsSam2PreprocessorConfig,
} from './transformers-js-sam2-config.js';
import {
  recordSam2PromptMaskDecoderGraph,
  recordSam2VisionEncoderGraph,
  TJS_SAM2_NAMES,
} from './transformers-js-sam2-graphs.js';
import { verifySam2TransformersJsDecoder } from './transformers-js-sam2-verify.js';
import { filesIn, saveModel, writeTransformersJsJson, type TransformersJsResult } from './transformers-js.js';

/** Options of `exportSam2TransformersJs`. */
export interface Sam2TransformersJsOptions extends Sam2ExportOptions {
  /** `single_mask` (default): pred_masks holds the mask of `multimask: 'auto'`; `multimask`: tokens 1..3. */
  readonly variant?: DecoderVariant;
}

/** The SAM 2.1 mask-selection rule of the `single_mask` decoder (samtune.json). */
export const SAM2_MASK_SELECTION_RULE =
  "Sam2Model.predict with multimask 'auto': exactly one point (label 0/1) and no box -> the mask of tokens " +
  '1..3 with the highest predicted IoU; anything else -> SAM2ImagePredictor single-mask output: token 0, or ' +
  'the best-IoU token of 1..3 when token 0 has a stability score below 0.98';

/**
 * Writes the transformers.js `sam2` folder of `model` into `dir` (module comment), staged: a failed
 * export leaves no partial folder.
 * @throws ExportTargetError when `dir` cannot be created; ExportVerificationError; NonFiniteWeightsError
 */
export async function exportSam2TransformersJs(
  model: Sam2ExportSource,
  dir: string,
  opts: Sam2TransformersJsOptions = {},
): Promise<TransformersJsResult> {
  checkFiniteWeights(model.weights, model.source.path);
  const { result, target } = await writeStaged(
    dir,
    'exportSam2TransformersJs(dir)',
    TRANSFORMERS_JS_FILES.config,
    (staging) => writeSam2TransformersJs(model, staging, opts),
  );
  opts.log?.(`wrote ${target} (transformers.js sam2 folder, ${result.variant})`);
  return { ...result, dir: target, files: filesIn(target) };
}

/** Writes and verifies the folder's files in `dir` (the staging folder). */
async function writeSam2TransformersJs(
  model: Sam2ExportSource,
  dir: string,
  opts: Sam2TransformersJsOptions,
): Promise<TransformersJsResult> {
  const variant = opts.variant ?? 'single_mask';
  const files = filesIn(dir);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const { config, weights } = model;

  await saveModel(recordSam2VisionEncoderGraph(config.imageEncoder, weights), files.visionEncoder, opts.log);
  opts.log?.('verifying the vision encoder against the in-process encoder');
  const enc = await verifySam2EncoderFile(
    files.visionEncoder,
    model,
    TJS_SAM2_NAMES.pixelValues,
    TJS_SAM2_NAMES.embeddings,
    opts.session,
  );
  const graph = recordSam2PromptMaskDecoderGraph(sam2PredictorWeights(weights), config, { variant });
  await saveModel(graph, files.decoder, opts.log);
  opts.log?.(`verifying the ${variant} prompt encoder + mask decoder against the tfjs Sam2Predictor`);
  const decoderCheck = await verifySam2TransformersJsDecoder(
    files.decoder,
    model,
    variant,
    enc.features,
    enc.originalSize,
    opts,
  );
  const verification = {
    vision_encoder: enc.worst.summary('in-process onnxruntime encoder session (same weights)', ['verification image']),
    decoder: decoderCheck,
  };
  await writeTransformersJsJson(files, {
    config: transformersJsSam2Config(model, variant),
    preprocessor: transformersJsSam2PreprocessorConfig(model),
    samtune: {
      checkpoint: { file: basename(model.source.path), sha256: model.source.sha256 },
      model: config.name,
      model_type: 'sam2',
      decoder_variant: variant,
      mask_selection: variant === 'single_mask' ? SAM2_MASK_SELECTION_RULE : 'tokens 1..3 (multimask_output=True)',
      prompt_recipe: TRANSFORMERS_JS_SAM2_PROMPT_RECIPE,
      verification,
    },
  });
  return { dir, variant, files, verification };
}
