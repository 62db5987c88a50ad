/**
 * `model.json`: the description of an export directory (files, I/O, preprocessing constants,
 * checkpoint, mask-selection rule, verification results). Tools outside samtune read it, so its keys
 * are snake_case and stable; `format_version` changes on incompatible edits.
 */
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SamConfig } from '@samtune/sam-model';
import { EXPORT_FILES, type DecoderVariant, type EncoderVariant, type TensorSpec } from './contract.js';
import { ModelDirError } from './errors.js';

/** Value of `format`. */
export const MODEL_JSON_FORMAT = 'samtune-onnx';
/** Current `format_version`. */
export const MODEL_JSON_VERSION = 1;

/** Worst agreement ratio per output over the verification cases (<= 1 passed). */
export interface VerificationSummary {
  /** What the model was compared with. */
  readonly reference: string;
  readonly cases: readonly string[];
  /** Output name -> worst `max|diff| / (1e-4 + 1e-3 max|ref|)` and the case it came from. */
  readonly worst_ratio: Readonly<Record<string, { readonly ratio: number; readonly case: string }>>;
}

/** One model file of the directory. */
export interface ModelFileEntry {
  /** File name relative to the directory. */
  readonly file: string;
  /** Initializers stored beside the model (large encoders), relative to the directory. */
  readonly external_data?: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly opset: number;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly verification?: VerificationSummary;
}

export interface EncoderEntry extends ModelFileEntry {
  readonly variant: EncoderVariant;
}

export interface DecoderEntry extends ModelFileEntry {
  readonly variant: DecoderVariant;
}

/** Contents of `model.json`. */
export interface ModelJson {
  readonly format: typeof MODEL_JSON_FORMAT;
  readonly format_version: number;
  readonly samtune_version: string;
  readonly created_at: string;
  readonly checkpoint: { readonly path: string; readonly sha256: string };
  /** Config name (`tiny_vit`, `vit_b`, `custom`, …) and the full config. */
  readonly model: string;
  readonly config: SamConfig;
  /** Side of the square input frame (1024). */
  readonly image_size: number;
  /** RGB mean / std on the 0-255 scale. */
  readonly pixel_mean: readonly number[];
  readonly pixel_std: readonly number[];
  /** Logit threshold of binary masks (0). */
  readonly mask_threshold: number;
  readonly mask_selection: { readonly rule: string; readonly multimask_tokens: string };
  /**
   * Prompt recipe: coordinates are XY in the 1024 frame (`original * new_side / old_side` per axis,
   * official `ResizeLongestSide.apply_coords`); a box is two points labelled 2,3 after the points;
   * without a box a padding point (0,0) label -1 is appended.
   */
  readonly prompt_recipe: string;
  readonly models: {
    readonly encoder?: EncoderEntry;
    readonly encoder_rgb?: EncoderEntry;
    readonly decoder?: DecoderEntry;
  };
}

/** True when `path` is a directory holding a `model.json` (an export directory, not a checkpoint file). */
export function isExportDir(path: string): boolean {
  return existsSync(join(path, EXPORT_FILES.modelJson)) && statSync(path).isDirectory();
}

/** Writes `<dir>/model.json` (atomically: temp file + rename). */
export function writeModelJson(dir: string, json: ModelJson): string {
  const path = join(dir, EXPORT_FILES.modelJson);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(json, null, 2)}\n`);
  renameSync(tmp, path);
  return path;
}

/**
 * Reads and checks `<dir>/model.json`: format, version, and that every model file it names exists.
 * @throws ModelDirError naming the directory and what is wrong
 */
export function readModelJson(dir: string): ModelJson {
  const path = join(dir, EXPORT_FILES.modelJson);
  if (!existsSync(path))
    throw new ModelDirError(
      `readModelJson(dir): ${path} not found; not a samtune export directory (run 'samtune export')`,
    );
  let json: Partial<ModelJson>;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as Partial<ModelJson>;
  } catch (e) {
    throw new ModelDirError(`readModelJson(dir): ${path} is not JSON (${(e as Error).message})`);
  }
  if (json.format !== MODEL_JSON_FORMAT || json.format_version !== MODEL_JSON_VERSION) {
    throw new ModelDirError(
      `readModelJson(dir): ${path} has format '${String(json.format)}' version ${String(json.format_version)}, expected '${MODEL_JSON_FORMAT}' version ${MODEL_JSON_VERSION}`,
    );
  }
  if (
    !json.models ||
    !json.config ||
    !Array.isArray(json.pixel_mean) ||
    !Array.isArray(json.pixel_std) ||
    typeof json.image_size !== 'number'
  ) {
    throw new ModelDirError(`readModelJson(dir): ${path} lacks models, config, pixel_mean, pixel_std or image_size`);
  }
  for (const [key, entry] of Object.entries(json.models)) {
    if (!entry) continue;
    for (const f of [entry.file, entry.external_data]) {
      if (f !== undefined && !existsSync(join(dir, f)))
        throw new ModelDirError(`readModelJson(dir): models.${key} names ${f}, missing in ${dir}`);
    }
  }
  return json as ModelJson;
}
