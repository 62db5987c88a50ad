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
import {
  checkFiniteWeights,
  clampLogits,
  compareTensors,
  sam2ApplyCoords,
  Sam2Predictor,
  sam2PredictorWeights,
  selectMaskIndex,
  useMultimask,
  type Box,
  type FloatTensor,
  type HostTensor,
  type Point,
  type Sam2PredictorFeatures,
} from '@samtune/sam-model';
import { createSession } from '@samtune/onnx';
import { floatTensor } from '@samtune/tensor';
import type { DecoderVariant } from './contract.js';
import type { VerificationSummary } from './model-json.js';
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
import { filesIn, saveModel, writeTransformersJsJson, type TransformersJsResult } from './transformers-js.js';
import { failVerification, WorstRatios } from './verify-common.js';

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

/** A verification prompt in original pixels of `verificationImage()`. */
interface TjsSam2Case {
  readonly name: string;
  readonly points: Point[];
  readonly labels: number[];
  readonly box?: Box;
}

function verificationCases(h: number, w: number): TjsSam2Case[] {
  return [
    { name: 'one_point', points: [[w / 2, h / 2]], labels: [1] },
    { name: 'box', points: [], labels: [], box: [w / 4, h / 4, (3 * w) / 4, (3 * h) / 4] },
    { name: 'box_and_point', points: [[w / 3, h / 2]], labels: [0], box: [w / 5, h / 5, (4 * w) / 5, (3 * h) / 4] },
    {
      name: 'two_points',
      points: [
        [w / 3, h / 3],
        [(2 * w) / 3, (2 * h) / 3],
      ],
      labels: [1, 0],
    },
  ];
}

/**
 * The decoder's feeds as transformers.js builds them: prompts in the S frame, `input_boxes [1,0,4]`
 * without a box, `input_points [1,1,0,2]` / `input_labels [1,1,0]` without points.
 */
export function sam2TransformersJsDecoderFeeds(
  features: Sam2PredictorFeatures,
  points: ArrayLike<number>,
  labels: readonly number[],
  box?: ArrayLike<number>,
): Record<string, HostTensor> {
  const [e0, e1, e2] = TJS_SAM2_NAMES.embeddings;
  const n = labels.length;
  return {
    [e0]: features.highResFeatures[0],
    [e1]: features.highResFeatures[1],
    [e2]: features.imageEmbedding,
    [TJS_SAM2_NAMES.inputPoints]: floatTensor(Float32Array.from(points), [1, 1, n, 2]),
    [TJS_SAM2_NAMES.inputLabels]: { dtype: 'int64', shape: [1, 1, n], data: BigInt64Array.from(labels.map(BigInt)) },
    [TJS_SAM2_NAMES.inputBoxes]: floatTensor(Float32Array.from(box ?? []), [1, box ? 1 : 0, 4]),
  };
}

/** Row `k` of `[1,M,…]` as `[1,1,…]`. */
function row(t: FloatTensor, k: number): FloatTensor {
  const m = t.shape[1] as number;
  const n = t.data.length / m;
  return floatTensor(t.data.slice(k * n, (k + 1) * n), [1, 1, ...t.shape.slice(2)]);
}

/**
 * Runs the written decoder on the verification prompts and compares `pred_masks` (clamped to ±32 like
 * the reference), `iou_scores` and `object_score_logits` with the tfjs `Sam2Predictor` (the tokens of
 * `Sam2Model.predict`'s `'auto'` rule for `single_mask`, tokens 1..3 for `multimask`).
 */
export async function verifySam2TransformersJsDecoder(
  path: string,
  model: Sam2ExportSource,
  variant: DecoderVariant,
  features: Sam2PredictorFeatures,
  originalSize: readonly [number, number],
  opts: Sam2ExportOptions = {},
): Promise<VerificationSummary> {
  const worst = new WorstRatios();
  const [h, w] = originalSize;
  const cases = verificationCases(h, w);
  const session = await createSession(path, opts.session);
  const predictor = new Sam2Predictor({
    config: model.config,
    weights: sam2PredictorWeights(model.weights),
    trainable: false,
  });
  try {
    for (const c of cases) {
      const multimask =
        variant === 'multimask' || useMultimask({ hasBox: c.box !== undefined, numPoints: c.points.length });
      const ref = predictor.predict(
        features,
        { ...(c.points.length > 0 ? { points: c.points, labels: c.labels } : {}), ...(c.box ? { box: c.box } : {}) },
        originalSize,
        { multimask, returnMasks: false },
      );
      const k = variant === 'single_mask' && multimask ? selectMaskIndex(ref.iouPredictions.data) : -1;
      const pick = (t: FloatTensor): FloatTensor => (k < 0 ? t : row(t, k));
      const feeds = sam2TransformersJsDecoderFeeds(
        features,
        sam2ApplyCoords(c.points.flat(), originalSize),
        c.labels,
        c.box ? sam2ApplyCoords(c.box, originalSize) : undefined,
      );
      const out = await session.run(feeds);
      const checks: [string, FloatTensor, FloatTensor][] = [
        [TJS_SAM2_NAMES.predMasks, clampLogits(out[TJS_SAM2_NAMES.predMasks] as FloatTensor), pick(ref.lowResMasks)],
        [TJS_SAM2_NAMES.iouScores, out[TJS_SAM2_NAMES.iouScores] as FloatTensor, pick(ref.iouPredictions)],
        [TJS_SAM2_NAMES.objectScoreLogits, out[TJS_SAM2_NAMES.objectScoreLogits] as FloatTensor, ref.objectScoreLogits],
      ];
      for (const [name, ours, want] of checks) {
        const a = compareTensors(floatTensor(ours.data, [...want.shape]), want);
        worst.add(name, c.name, a);
        if (!a.ok) await failVerification(path, name, c.name, a, session);
      }
    }
  } finally {
    predictor.dispose();
    await session.release().catch(() => undefined);
  }
  return worst.summary(
    "tfjs Sam2Predictor (in-process, same weights; Sam2Model.predict's rule)",
    cases.map((c) => c.name),
  );
}

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
  const [, , embed] = TJS_SAM2_NAMES.embeddings;
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
    vision_encoder: enc.worst.summary('in-process onnxruntime encoder session (same weights)', [
      `verification image (${embed} and the high-res levels)`,
    ]),
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
