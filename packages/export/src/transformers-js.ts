/**
 * `exportTransformersJs`: a folder that `@huggingface/transformers` (transformers.js) loads with
 * `SamModel.from_pretrained(dir)` / `AutoProcessor.from_pretrained(dir)`, offline from a local path:
 *
 * ```
 * <dir>/config.json                              model_type "sam", transformers.js_config.dtype "fp32"
 * <dir>/preprocessor_config.json                 SamProcessor / SamImageProcessor: longest edge S, samtune's mean/std
 * <dir>/onnx/vision_encoder.onnx                 pixel_values -> image_embeddings, image_positional_embeddings
 * <dir>/onnx/prompt_encoder_mask_decoder.onnx    embeddings + input_points/input_labels -> iou_scores, pred_masks
 * <dir>/samtune.json                             checkpoint SHA-256, samtune version, prompt recipe, verification
 * ```
 *
 * I/O of the two graphs: `transformers-js-graphs.ts`. Both are run by onnxruntime-node right after
 * writing and compared with the in-process model (`1e-4 + 1e-3 * max|ref|`); a failing file is
 * deleted and `ExportVerificationError` is thrown.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import {
  compareTensors,
  DENSE_PE_KEY,
  floatTensor,
  preparePromptEncoderWeights,
  SamPredictor,
  selectMaskIndex,
  sha256File,
  useMultimask,
  type Agreement,
  type FloatTensor,
  type HostTensor,
} from '@samtune/sam-model';
import { createSession, type OnnxGraphOps, type Session } from '@samtune/onnx';
import { normalizeAndPad } from '@samtune/transforms';
import { MASK_SELECTION_RULE, SAMTUNE_VERSION, type DecoderVariant } from './contract.js';
import type { ExportOptions, ExportSource } from './export-model.js';
import type { VerificationSummary } from './model-json.js';
import {
  TRANSFORMERS_JS_FILES,
  TRANSFORMERS_JS_PROMPT_RECIPE,
  transformersJsConfig,
  transformersJsPreprocessorConfig,
} from './transformers-js-config.js';
import { promptsToFrame } from './prompts.js';
import { recordPromptMaskDecoderGraph, recordVisionEncoderGraph, TJS_NAMES } from './transformers-js-graphs.js';
import { writeStaged } from './staging.js';
import { failVerification, WorstRatios } from './verify-common.js';
import { verificationCases, verificationEmbedding, VERIFY_ORIGINAL_SIZE } from './verify-decoder.js';
import { verificationImage, VERIFY_IMAGE_SIZE } from './verify-encoder.js';

/** Options of `exportTransformersJs`. */
export interface TransformersJsOptions extends Pick<ExportOptions, 'session' | 'log'> {
  /** `single_mask` (default): pred_masks holds the one mask of the samtune rule; `multimask`: all 4 tokens. */
  readonly variant?: DecoderVariant;
}

/** What `exportTransformersJs` wrote. */
export interface TransformersJsResult {
  readonly dir: string;
  readonly variant: DecoderVariant;
  readonly files: Record<keyof typeof TRANSFORMERS_JS_FILES, string>;
  readonly verification: { readonly vision_encoder: VerificationSummary; readonly decoder: VerificationSummary };
}

/** Saves a recorded graph to `path` and logs its size (with external data). */
export async function saveModel(ops: OnnxGraphOps, path: string, log?: (l: string) => void): Promise<void> {
  const saved = ops.builder.save(path);
  const bytes = statSync(path).size + (saved.externalDataPath ? statSync(saved.externalDataPath).size : 0);
  log?.(`wrote ${path} (${(bytes / 1e6).toFixed(1)} MB)`);
}

/** The dense positional encoding `[1,C,h,w]` of the model (`get_dense_pe()`). */
function densePe(model: ExportSource): FloatTensor {
  return preparePromptEncoderWeights(model.config.promptEncoder, model.weights).get(DENSE_PE_KEY) as FloatTensor;
}

const f32 = (data: Float32Array, shape: number[]): FloatTensor => ({ dtype: 'float32', shape, data });

/** `[1,1,M,…]` row `i` as a flat tensor `[…]`. */
function tokenRow(t: FloatTensor, i: number): FloatTensor {
  const m = t.shape[2] as number;
  const n = t.data.length / m;
  return f32(t.data.subarray(i * n, (i + 1) * n), t.shape.slice(3));
}

/** Feeds of the decoder graph for prompts in the S frame (box corners as points 2/3, no padding point). */
export function transformersJsDecoderFeeds(
  embedding: FloatTensor,
  imagePe: FloatTensor,
  points: readonly (readonly [number, number])[],
  labels: readonly number[],
): Record<string, HostTensor> {
  const n = points.length;
  return {
    [TJS_NAMES.imageEmbeddings]: embedding,
    [TJS_NAMES.imagePositionalEmbeddings]: imagePe,
    [TJS_NAMES.inputPoints]: f32(Float32Array.from(points.flat()), [1, 1, n, 2]),
    [TJS_NAMES.inputLabels]: { dtype: 'int64', shape: [1, 1, n], data: BigInt64Array.from(labels.map(BigInt)) },
  };
}

/**
 * Runs the decoder on the verification prompts (one point, a box, points + a box, two points; no
 * mask input: transformers.js has none) and compares `pred_masks` / `iou_scores` with the tfjs
 * predictor: all 4 tokens for `multimask`, the rule's token for `single_mask`.
 */
export async function verifyTransformersJsDecoder(
  session: Session,
  model: ExportSource,
  variant: DecoderVariant,
  path: string,
): Promise<VerificationSummary> {
  const { config } = model;
  const embedding = verificationEmbedding(config);
  const imagePe = densePe(model);
  // transformers.js has no mask input: the mask-input case runs as its two points alone.
  const cases = verificationCases().map((c) =>
    c.prompts.maskInput
      ? { name: c.name.replace('_mask_input', ''), prompts: { points: c.prompts.points, labels: c.prompts.labels } }
      : c,
  );
  const worst = new WorstRatios();
  const predictor = new SamPredictor({ config, weights: model.weights, trainable: false });
  try {
    for (const c of cases) {
      const frame = promptsToFrame(c.prompts, VERIFY_ORIGINAL_SIZE, config.imageEncoder.imgSize);
      const points = [...(frame.points ?? [])];
      const labels = [...(frame.labels ?? [])];
      if (frame.box) {
        points.push([frame.box[0], frame.box[1]], [frame.box[2], frame.box[3]]);
        labels.push(2, 3);
      }
      const out = await session.run(transformersJsDecoderFeeds(embedding, imagePe, points, labels));
      const r0 = predictor.predict(embedding, c.prompts, VERIFY_ORIGINAL_SIZE, { multimask: false });
      const r1 = predictor.predict(embedding, c.prompts, VERIFY_ORIGINAL_SIZE, { multimask: true });
      const refMasks = [r0.lowResMasks, r1.lowResMasks];
      const refIou = [...r0.iouPredictions.data, ...r1.iouPredictions.data];
      const refMask = (tok: number): FloatTensor => {
        const src = (tok === 0 ? refMasks[0] : refMasks[1]) as FloatTensor;
        const idx = tok === 0 ? 0 : tok - 1;
        const n = src.data.length / (src.shape[0] as number);
        return f32(src.data.subarray(idx * n, (idx + 1) * n), src.shape.slice(1));
      };
      const ambiguous = useMultimask({ hasBox: c.prompts.box !== undefined, numPoints: c.prompts.points?.length ?? 0 });
      const compare = (row: number, tok: number): [Agreement, Agreement] => {
        const iouOut = (out[TJS_NAMES.iouScores] as FloatTensor).data.subarray(row, row + 1);
        return [
          compareTensors(tokenRow(out[TJS_NAMES.predMasks] as FloatTensor, row), refMask(tok)),
          compareTensors(f32(iouOut, [1]), f32(Float32Array.of(refIou[tok] as number), [1])),
        ];
      };
      // multimask: every token in its row; single_mask: the rule's token in row 0, or, on a near tie
      // of the multimask IoUs (within tolerance of the best), any of the tied tokens.
      const best = 1 + selectMaskIndex(refIou.slice(1));
      const tol = 1e-4 + 1e-3 * Math.abs(refIou[best] as number);
      const tied = [1, 2, 3].filter((t) => t !== best && (refIou[best] as number) - (refIou[t] as number) <= tol);
      const checks: [number, number[]][] =
        variant === 'multimask' ? [0, 1, 2, 3].map((t) => [t, [t]]) : [[0, ambiguous ? [best, ...tied] : [0]]];
      for (const [row, candidates] of checks) {
        const results = candidates.map((tok) => [tok, ...compare(row, tok)] as const);
        const [tok, masks, iou] = results.find(([, m, i]) => m.ok && i.ok) ?? (results[0] as (typeof results)[number]);
        const label = `${c.name} (token ${tok})`;
        if (!masks.ok) await failVerification(path, TJS_NAMES.predMasks, label, masks, session);
        if (!iou.ok) await failVerification(path, TJS_NAMES.iouScores, label, iou, session);
        worst.add(TJS_NAMES.predMasks, c.name, masks);
        worst.add(TJS_NAMES.iouScores, c.name, iou);
      }
    }
  } finally {
    predictor.dispose();
  }
  return worst.summary(
    'tfjs SamPredictor (in-process, same weights)',
    cases.map((c) => c.name),
  );
}

/** Runs the vision encoder on the synthetic verification image against the in-process encoder and the host dense PE. */
async function verifyVisionEncoder(session: Session, model: ExportSource, path: string): Promise<VerificationSummary> {
  const s = model.config.imageEncoder.imgSize;
  const image = verificationImage(Math.min(VERIFY_IMAGE_SIZE[0], s), Math.min(VERIFY_IMAGE_SIZE[1], s));
  const padded = normalizeAndPad(image, model.config.pixelMean, model.config.pixelStd, s);
  const ref = await (await model.encoder()).embed(padded);
  const pe = densePe(model);
  const out = await session.run({ [TJS_NAMES.pixelValues]: f32(padded, [1, 3, s, s]) });
  const name = `synthetic_${image.height}x${image.width}`;
  const worst = new WorstRatios();
  for (const [output, want] of [
    [TJS_NAMES.imageEmbeddings, ref],
    [TJS_NAMES.imagePositionalEmbeddings, pe],
  ] as const) {
    const a = compareTensors(out[output] as FloatTensor, floatTensor(want.data, [...want.shape]));
    if (!a.ok) await failVerification(path, output, name, a, session);
    worst.add(output, name, a);
  }
  return worst.summary('in-process onnxruntime encoder session and the host dense PE (same weights)', [name]);
}

/** Opens `path`, runs `check`, always releases the session. */
async function withSession<R>(
  path: string,
  model: ExportSource,
  opts: TransformersJsOptions,
  check: (s: Session) => Promise<R>,
): Promise<R> {
  const session = await createSession(path, opts.session);
  try {
    return await check(session);
  } finally {
    await session.release().catch(() => undefined);
  }
}

/**
 * Writes the transformers.js folder of `model` into `dir` (see the module doc), staged like the ONNX
 * export (`staging.ts`: written and verified beside `dir`, moved in at the end, `config.json` last),
 * so a failed export leaves no partial folder.
 * @throws ExportTargetError when `dir` cannot be created; ExportVerificationError
 */
export async function exportTransformersJs(
  model: ExportSource,
  dir: string,
  opts: TransformersJsOptions = {},
): Promise<TransformersJsResult> {
  const { result, target } = await writeStaged(
    dir,
    'exportTransformersJs(dir)',
    TRANSFORMERS_JS_FILES.config,
    (staging) => writeTransformersJs(model, staging, opts),
  );
  const files = filesIn(target);
  opts.log?.(`wrote ${target} (transformers.js SAM folder, ${result.variant})`);
  return { ...result, dir: target, files };
}

/** The paths of the folder's files under `dir`. */
export function filesIn(dir: string): Record<keyof typeof TRANSFORMERS_JS_FILES, string> {
  return Object.fromEntries(Object.entries(TRANSFORMERS_JS_FILES).map(([k, f]) => [k, join(dir, f)])) as Record<
    keyof typeof TRANSFORMERS_JS_FILES,
    string
  >;
}

/** Writes and verifies the folder's files in `dir` (the staging folder). */
async function writeTransformersJs(
  model: ExportSource,
  dir: string,
  opts: TransformersJsOptions,
): Promise<TransformersJsResult> {
  const variant = opts.variant ?? 'single_mask';
  const files = filesIn(dir);
  mkdirSync(join(dir, 'onnx'), { recursive: true });

  await saveModel(recordVisionEncoderGraph(model.config, model.weights), files.visionEncoder, opts.log);
  opts.log?.('verifying the vision encoder against the in-process encoder');
  const visionCheck = await withSession(files.visionEncoder, model, opts, (s) =>
    verifyVisionEncoder(s, model, files.visionEncoder),
  );
  await saveModel(recordPromptMaskDecoderGraph(model.config, model.weights, { variant }), files.decoder, opts.log);
  opts.log?.(`verifying the ${variant} prompt encoder + mask decoder against the tfjs predictor`);
  const decoderCheck = await withSession(files.decoder, model, opts, (s) =>
    verifyTransformersJsDecoder(s, model, variant, files.decoder),
  );

  const verification = { vision_encoder: visionCheck, decoder: decoderCheck };
  await writeTransformersJsJson(files, {
    config: transformersJsConfig(model, variant),
    preprocessor: transformersJsPreprocessorConfig(model),
    samtune: {
      checkpoint: { file: basename(model.source.path), sha256: model.source.sha256 },
      model: model.config.name,
      decoder_variant: variant,
      mask_selection: MASK_SELECTION_RULE,
      prompt_recipe: TRANSFORMERS_JS_PROMPT_RECIPE,
      verification,
    },
  });
  return { dir, variant, files, verification };
}

/**
 * Writes the folder's JSON files: `config.json`, `preprocessor_config.json` and `samtune.json` (the
 * given fields plus format, samtune version, time and the SHA-256 of both ONNX files).
 */
export async function writeTransformersJsJson(
  files: Record<keyof typeof TRANSFORMERS_JS_FILES, string>,
  json: { config: object; preprocessor: object; samtune: Record<string, unknown> },
): Promise<void> {
  const write = (path: string, value: unknown): void => writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
  write(files.config, json.config);
  write(files.preprocessor, json.preprocessor);
  const dir = dirname(files.config);
  const { verification, ...rest } = json.samtune;
  write(files.samtune, {
    format: 'samtune-transformers-js',
    samtune_version: SAMTUNE_VERSION,
    created_at: new Date().toISOString(),
    ...rest,
    files: Object.fromEntries(
      await Promise.all(
        [files.visionEncoder, files.decoder].map(async (p) => [relative(dir, p), await sha256File(p)] as const),
      ),
    ),
    verification,
  });
}
