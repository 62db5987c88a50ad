/**
 * `model.json`: the description of an export directory (files, I/O, preprocessing constants,
 * checkpoint, mask-selection rule, verification results). Tools outside samtune read it, so its keys
 * are snake_case and stable; `format_version` changes on incompatible edits.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkSchema, SchemaValidationError } from '@samtune/errors';
import { containedPath, PathOutsideFolderError, sha256File } from '@samtune/sam-model';
import { writeFileAtomic } from '@samtune/tensor-files';
import { EXPORT_FILES } from './contract.js';
import { ModelDirError, ModelFileChangedError } from './errors.js';
import {
  MODEL_JSON_FORMAT,
  MODEL_JSON_VERSION,
  ModelJsonSchema,
  type ModelFileEntry,
  type ModelJson,
} from './model-json-schema.js';

export {
  MODEL_JSON_FORMAT,
  MODEL_JSON_VERSION,
  type DecoderEntry,
  type EncoderEntry,
  type Int8DecoderEntry,
  type Int8EncoderEntry,
  type Int8Info,
  type ModelFileEntry,
  type ModelJson,
  type QuantizationBlock,
  type VerificationSummary,
} from './model-json-schema.js';

/** True when `path` is a directory holding a `model.json` (an export directory, not a checkpoint file). */
export function isExportDir(path: string): boolean {
  return existsSync(join(path, EXPORT_FILES.modelJson)) && statSync(path).isDirectory();
}

/** Writes `<dir>/model.json` atomically (temp file + rename), after checking it against the schema. */
export function writeModelJson(dir: string, json: ModelJson): string {
  const path = join(dir, EXPORT_FILES.modelJson);
  checkSchema(ModelJsonSchema, json, `writeModelJson(json): ${path}`);
  writeFileAtomic(path, `${JSON.stringify(json, null, 2)}\n`);
  return path;
}

/**
 * Reads and checks `<dir>/model.json`: format, version, and that every model file it names is a
 * regular file inside `dir` (realpath: no `../`, absolute path, symlink out, FIFO or device).
 * @throws ModelDirError naming the directory and what is wrong
 * @throws PathOutsideFolderError for a model file outside `dir` or not a regular file
 */
export function readModelJson(dir: string): ModelJson {
  const path = join(dir, EXPORT_FILES.modelJson);
  if (!existsSync(path))
    throw new ModelDirError(
      `readModelJson(dir): ${path} not found; not a samtune export directory (run 'samtune export')`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ModelDirError(`readModelJson(dir): ${path} is not JSON (${(e as Error).message})`);
  }
  const r = raw as { format?: unknown; format_version?: unknown } | null;
  if (r?.format !== MODEL_JSON_FORMAT || r.format_version !== MODEL_JSON_VERSION) {
    throw new ModelDirError(
      `readModelJson(dir): ${path} has format '${String(r?.format)}' version ${String(r?.format_version)}, expected '${MODEL_JSON_FORMAT}' version ${MODEL_JSON_VERSION}`,
    );
  }
  let json: ModelJson;
  try {
    json = checkSchema(ModelJsonSchema, raw, `readModelJson(dir): ${path}`);
  } catch (e) {
    if (e instanceof SchemaValidationError) throw new ModelDirError(e.message);
    throw e;
  }
  for (const [key, entry] of Object.entries(json.models)) {
    if (!entry) continue;
    modelFilePath(dir, entry, key);
    if (entry.external_data !== undefined)
      containedPath(dir, entry.external_data, { what: `readModelJson(dir): models.${key}.external_data` });
  }
  return json;
}

/** The real path of a model file that `model.json` names (`models.<key>.file`), inside `dir`. */
export function modelFilePath(dir: string, entry: ModelFileEntry, key: string): string {
  try {
    return containedPath(dir, entry.file, { what: `readModelJson(dir): models.${key}.file` });
  } catch (e) {
    if (e instanceof PathOutsideFolderError && /\(missing\)$/.test(e.message))
      throw new ModelDirError(`readModelJson(dir): models.${key} names ${entry.file}, missing in ${dir}`);
    throw e;
  }
}

/**
 * The path of a model file to load, checked against what `model.json` records: contained in `dir`
 * (see `modelFilePath`; its `external_data` too), `bytes` long (the model and its external data),
 * the model file with the recorded `sha256`, so a replaced model never runs silently. Reads the
 * model file once to hash it.
 * @throws ModelFileChangedError naming the file, the recorded and the found size or hash
 */
export async function checkedModelFile(dir: string, entry: ModelFileEntry, key: string): Promise<string> {
  const path = modelFilePath(dir, entry, key);
  const data =
    entry.external_data !== undefined
      ? containedPath(dir, entry.external_data, { what: `readModelJson(dir): models.${key}.external_data` })
      : undefined;
  const bytes = statSync(path).size + (data !== undefined ? statSync(data).size : 0);
  if (bytes !== entry.bytes)
    throw new ModelFileChangedError(
      `loadModelFile(${path}): expected ${entry.bytes} bytes${data !== undefined ? ' (with its external data)' : ''} as model.json models.${key}.bytes records, got ${bytes}; the file changed after the export (export it again)`,
    );
  const sha256 = await sha256File(path);
  if (sha256 !== entry.sha256)
    throw new ModelFileChangedError(
      `loadModelFile(${path}): expected sha256 ${entry.sha256} as model.json models.${key}.sha256 records, got ${sha256}; the file was replaced after the export (export it again)`,
    );
  return path;
}
