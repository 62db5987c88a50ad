/**
 * `exportSamOnnx`: writes an export directory — `encoder.onnx` (`images` input), `encoder_rgb.onnx`
 * (raw RGB input), `decoder.onnx` (official SAM decoder signature, multimask or single-mask) and
 * `model.json` — verifying every model right after writing it (see verify-*.ts). A model that fails
 * verification is deleted and `ExportVerificationError` is thrown; `model.json` is then not written.
 * Everything is staged (`staging.ts`): written into a folder beside the target and moved into place
 * at the end, so a failed export (a verification error, non-finite weights, a kill) leaves no partial
 * directory.
 */
import { statSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  checkFiniteWeights,
  sha256File,
  type ImageEncoderSession,
  type ModelSource,
  type SamConfig,
  type WeightMap,
} from '@samtune/sam-model';
import { type OnnxGraphOps, type SessionOptions } from '@samtune/onnx';
import {
  decoderInputSpecs,
  decoderOutputSpecs,
  encoderInputSpec,
  encoderOutputSpec,
  EXPORT_FILES,
  EXPORT_OPSET,
  MASK_SELECTION_RULE,
  METADATA_KEYS,
  MULTIMASK_TOKENS,
  SAMTUNE_VERSION,
  type DecoderVariant,
  type EncoderVariant,
  type TensorSpec,
} from './contract.js';
import { recordDecoderGraph } from './decoder-graph.js';
import { recordEncoderGraph } from './encoder-graph.js';
import {
  MODEL_JSON_FORMAT,
  MODEL_JSON_VERSION,
  writeModelJson,
  type DecoderEntry,
  type EncoderEntry,
  type ModelJson,
} from './model-json.js';
import { verifyDecoderFiles } from './verify-decoder.js';
import { verifyEncoderFiles } from './verify-encoder.js';
import { writeStaged } from './staging.js';
export { ExportTargetError } from './staging.js';

/** A loaded model to export; `SamModel` satisfies it. */
export interface ExportSource {
  readonly config: SamConfig;
  readonly weights: WeightMap;
  readonly source: ModelSource;
  /** The in-process encoder session (reference of the encoder verification). */
  encoder(): Promise<ImageEncoderSession>;
}

/** Parts of an export directory. */
export type ExportComponent = 'encoder' | 'encoder_rgb' | 'decoder';

export interface ExportOptions {
  /** Decoder variant of `decoder.onnx`: the rule's one mask instead of all 4 tokens. Default false. */
  readonly singleMask?: boolean;
  /** What to write (default all three). */
  readonly components?: readonly ExportComponent[];
  /** onnxruntime options of the verification sessions. */
  readonly session?: SessionOptions;
  /** Progress lines (e.g. the CLI's stderr). */
  readonly log?: (line: string) => void;
}

/** What `exportSamOnnx` wrote. */
export interface ExportResult {
  readonly dir: string;
  readonly modelJsonPath: string;
  readonly modelJson: ModelJson;
}

const PROMPT_RECIPE =
  'point_coords: XY in the 1024 frame (original pixels times new_w/W and new_h/H, official ResizeLongestSide.apply_coords); ' +
  'points first, then a box as two points labelled 2 (x0,y0) and 3 (x1,y1); without a box append a padding point (0,0) labelled -1; ' +
  'mask_input zeros and has_mask_input 0 without a mask; orig_im_size (H,W).';

/** Writes the metadata_props shared by every exported model. */
function setMetadata(
  ops: OnnxGraphOps,
  model: ExportSource,
  component: string,
  inputs: readonly TensorSpec[],
  outputs: readonly TensorSpec[],
  extra: Record<string, string> = {},
): void {
  const b = ops.builder;
  const meta: Record<string, string> = {
    [METADATA_KEYS.component]: component,
    [METADATA_KEYS.version]: SAMTUNE_VERSION,
    [METADATA_KEYS.checkpointSha256]: model.source.sha256,
    [METADATA_KEYS.checkpointPath]: basename(model.source.path),
    [METADATA_KEYS.modelName]: model.config.name,
    [METADATA_KEYS.pixelMean]: JSON.stringify(model.config.pixelMean),
    [METADATA_KEYS.pixelStd]: JSON.stringify(model.config.pixelStd),
    [METADATA_KEYS.imageSize]: String(model.config.imageEncoder.imgSize),
    [METADATA_KEYS.maskThreshold]: String(model.config.maskThreshold),
    [METADATA_KEYS.maskSelection]: MASK_SELECTION_RULE,
    [METADATA_KEYS.inputs]: JSON.stringify(inputs),
    [METADATA_KEYS.outputs]: JSON.stringify(outputs),
    ...extra,
  };
  for (const [k, v] of Object.entries(meta)) b.setMetadata(k, v);
}

/** Saves a recorded model and describes the file (size includes external data). */
async function save(
  ops: OnnxGraphOps,
  path: string,
): Promise<{ file: string; external_data?: string; bytes: number; sha256: string }> {
  const saved = ops.builder.save(path);
  const data = saved.externalDataPath;
  return {
    file: basename(path),
    ...(data ? { external_data: basename(data) } : {}),
    bytes: statSync(path).size + (data ? statSync(data).size : 0),
    sha256: await sha256File(path),
  };
}

/**
 * Writes the decoder models of `paths` (one per variant) and verifies them (see `verifyDecoderFiles`;
 * the tfjs references are computed once for all).
 * @throws ExportVerificationError after deleting the failing file
 */
export async function exportDecoderModels(
  model: ExportSource,
  paths: Partial<Record<DecoderVariant, string>>,
  opts: ExportOptions = {},
): Promise<Partial<Record<DecoderVariant, DecoderEntry>>> {
  const pe = model.config.promptEncoder;
  const [eh, ew] = pe.imageEmbeddingSize;
  const inputs = decoderInputSpecs(pe.embedDim, eh, ew);
  const written: Partial<Record<DecoderVariant, Omit<DecoderEntry, 'verification'>>> = {};
  for (const [variant, path] of Object.entries(paths) as [DecoderVariant, string][]) {
    const outputs = decoderOutputSpecs(variant, eh, ew);
    const ops = recordDecoderGraph(model.config, model.weights, { variant });
    setMetadata(ops, model, 'decoder', inputs, outputs, {
      [METADATA_KEYS.decoderVariant]: variant,
      'samtune.multimask_tokens': MULTIMASK_TOKENS,
      'samtune.prompt_recipe': PROMPT_RECIPE,
    });
    const file = await save(ops, path);
    opts.log?.(`wrote ${path} (${(file.bytes / 1e6).toFixed(1)} MB, ${variant} decoder)`);
    written[variant] = { ...file, variant, opset: EXPORT_OPSET, inputs, outputs };
  }
  opts.log?.('verifying the decoder(s) against the tfjs predictor');
  const checks = await verifyDecoderFiles(paths, model, opts.session);
  const out: Partial<Record<DecoderVariant, DecoderEntry>> = {};
  for (const [variant, entry] of Object.entries(written) as [DecoderVariant, DecoderEntry][])
    out[variant] = { ...entry, ...(checks[variant] ? { verification: checks[variant] } : {}) };
  return out;
}

/** `exportDecoderModels` for one variant. */
export async function exportDecoderModel(
  model: ExportSource,
  path: string,
  variant: DecoderVariant,
  opts: ExportOptions = {},
): Promise<DecoderEntry> {
  return (await exportDecoderModels(model, { [variant]: path }, opts))[variant] as DecoderEntry;
}

/**
 * Writes the encoder models of `paths` and verifies them against the in-process encoder.
 * @throws ExportVerificationError after deleting the failing file
 */
export async function exportEncoderModels(
  model: ExportSource,
  paths: Partial<Record<EncoderVariant, string>>,
  opts: ExportOptions = {},
): Promise<Partial<Record<EncoderVariant, EncoderEntry>>> {
  const enc = model.config.imageEncoder;
  const [eh, ew] = model.config.promptEncoder.imageEmbeddingSize;
  const written: Partial<Record<EncoderVariant, Omit<EncoderEntry, 'verification'>>> = {};
  for (const [variant, path] of Object.entries(paths) as [EncoderVariant, string][]) {
    const inputs = [encoderInputSpec(variant, enc.imgSize)];
    const outputs = [encoderOutputSpec(model.config.promptEncoder.embedDim, eh, ew)];
    const ops = recordEncoderGraph(model.config, model.weights, variant);
    setMetadata(ops, model, variant === 'images' ? 'image_encoder' : 'image_encoder_rgb', inputs, outputs);
    const file = await save(ops, path);
    opts.log?.(`wrote ${path} (${(file.bytes / 1e6).toFixed(1)} MB, input ${inputs[0]?.name})`);
    written[variant] = { ...file, variant, opset: EXPORT_OPSET, inputs, outputs };
  }
  opts.log?.('verifying the encoder(s) against the in-process encoder');
  const checks = await verifyEncoderFiles(paths, model, opts.session);
  const out: Partial<Record<EncoderVariant, EncoderEntry>> = {};
  for (const [variant, entry] of Object.entries(written) as [EncoderVariant, EncoderEntry][])
    out[variant] = { ...entry, ...(checks[variant] ? { verification: checks[variant] } : {}) };
  return out;
}

/**
 * Exports `model` to `dir`: `encoder.onnx`, `encoder_rgb.onnx`, `decoder.onnx` (multimask, or
 * single-mask with `singleMask`) and `model.json`, each model verified after writing. Nothing appears
 * in `dir` unless the whole export succeeds (see the module comment).
 * @throws ExportTargetError when `dir` cannot be created; ExportVerificationError; NonFiniteWeightsError
 */
export async function exportSamOnnx(model: ExportSource, dir: string, opts: ExportOptions = {}): Promise<ExportResult> {
  checkFiniteWeights(model.weights, `exportSamOnnx(${model.source.path})`);
  const { result, target } = await writeStaged(dir, 'exportSamOnnx(dir)', EXPORT_FILES.modelJson, (staging) =>
    exportInto(model, staging, opts),
  );
  opts.log?.(`wrote ${target}`);
  return { ...result, dir: target, modelJsonPath: join(target, EXPORT_FILES.modelJson) };
}

async function exportInto(model: ExportSource, dir: string, opts: ExportOptions): Promise<ExportResult> {
  const parts = new Set<ExportComponent>(opts.components ?? ['encoder', 'encoder_rgb', 'decoder']);
  const encPaths: Partial<Record<EncoderVariant, string>> = {
    ...(parts.has('encoder') ? { images: join(dir, EXPORT_FILES.encoder) } : {}),
    ...(parts.has('encoder_rgb') ? { rgb: join(dir, EXPORT_FILES.encoderRgb) } : {}),
  };
  const encoders = Object.keys(encPaths).length > 0 ? await exportEncoderModels(model, encPaths, opts) : {};
  const variant: DecoderVariant = opts.singleMask ? 'single_mask' : 'multimask';
  const decoder = parts.has('decoder')
    ? await exportDecoderModel(model, join(dir, EXPORT_FILES.decoder), variant, opts)
    : undefined;
  const c = model.config;
  const modelJson: ModelJson = {
    format: MODEL_JSON_FORMAT,
    format_version: MODEL_JSON_VERSION,
    samtune_version: SAMTUNE_VERSION,
    created_at: new Date().toISOString(),
    checkpoint: { path: model.source.path, sha256: model.source.sha256 },
    model: c.name,
    config: c,
    image_size: c.imageEncoder.imgSize,
    pixel_mean: [...c.pixelMean],
    pixel_std: [...c.pixelStd],
    mask_threshold: c.maskThreshold,
    mask_selection: { rule: MASK_SELECTION_RULE, multimask_tokens: MULTIMASK_TOKENS },
    prompt_recipe: PROMPT_RECIPE,
    models: {
      ...(encoders.images ? { encoder: encoders.images } : {}),
      ...(encoders.rgb ? { encoder_rgb: encoders.rgb } : {}),
      ...(decoder ? { decoder } : {}),
    },
  };
  const modelJsonPath = writeModelJson(dir, modelJson);
  opts.log?.(`wrote ${modelJsonPath}`);
  return { dir, modelJsonPath, modelJson };
}
