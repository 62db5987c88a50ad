/**
 * One entry point for SAM weights: a path or a registry name → config, weights, SHA-256. Reads
 * official `.pth`/`.pt` (torch zip, restricted unpickler) and `.safetensors` (a samtune-written
 * file carries its config as JSON in metadata key `samtune.config`; a fine-tuned one may hold only
 * its trained tensors and name its base checkpoint, see `fine-tuned.ts`); validates every key.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { SamConfig } from '../config.js';
import type { WeightMap } from '@samtune/onnx';
import { resolveCheckpointDetailed, sha256File, type ResolveCheckpointOptions } from './download.js';
import { validateWeights } from './expected-shapes.js';
import { checkFiniteWeights } from './finite.js';
import {
  BASE_CHECKPOINT_KEY,
  BaseCheckpointNestedError,
  mergeBaseCheckpoint,
  readBaseCheckpointRef,
  type BaseCheckpointRef,
} from './fine-tuned.js';
import { inferSamConfig } from './infer-config.js';
import { isSam2Keys, Sam2CheckpointForSam1Error } from '../sam2/family-keys.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { readTorchCheckpoint } from './torch.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Metadata key holding the SamConfig JSON in samtune-written safetensors. */
export const SAMTUNE_CONFIG_KEY = 'samtune.config';

/** Thrown when the file is neither a torch zip nor safetensors, or its stored config is invalid. */
export class CheckpointFormatError extends SamtuneError {
  readonly code: string = 'checkpoint-format';
  readonly kind: ErrorKind = 'input';
  override readonly name = 'CheckpointFormatError';
}

export interface LoadSamCheckpointOptions extends ResolveCheckpointOptions {
  /** Check keys and shapes against the config (default true). */
  validate?: boolean;
  /** Refuse NaN/±Infinity in any float tensor with `NonFiniteWeightsError` (default true). */
  checkFinite?: boolean;
  /** For a fine-tuned checkpoint holding only its trained tensors: the base file, instead of the recorded one. */
  baseCheckpoint?: string;
}

export interface LoadedSamCheckpoint {
  config: SamConfig;
  weights: WeightMap;
  /** Lower-case hex SHA-256 of the file. */
  sha256: string;
  /** Absolute local path read. */
  path: string;
  /** The base checkpoint whose weights complete a fine-tuned checkpoint (see `fine-tuned.ts`). */
  base?: { path: string; sha256: string };
}

/** The file format of a checkpoint from its first bytes. */
export function sniff(path: string): 'torch' | 'safetensors' {
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(9);
  try {
    readSync(fd, head, 0, 9, 0);
  } finally {
    closeSync(fd);
  }
  if (head[0] === 0x50 && head[1] === 0x4b) return 'torch'; // "PK": zip
  if (head[8] === 0x7b) return 'safetensors'; // u64 header length then '{'
  throw new CheckpointFormatError(
    `loadSamCheckpoint(${path}): not a torch.save zip (.pth/.pt) nor a safetensors file (first bytes ${head.toString('hex')})`,
  );
}

function parseStoredConfig(json: string, path: string): SamConfig {
  let c: unknown;
  try {
    c = JSON.parse(json);
  } catch (e) {
    throw new CheckpointFormatError(
      `loadSamCheckpoint(${path}): metadata '${SAMTUNE_CONFIG_KEY}' is not JSON (${(e as Error).message})`,
    );
  }
  const o = c as Partial<SamConfig>;
  if (!o || typeof o.name !== 'string' || !o.imageEncoder || !o.promptEncoder || !o.maskDecoder) {
    throw new CheckpointFormatError(
      `loadSamCheckpoint(${path}): metadata '${SAMTUNE_CONFIG_KEY}' is not a SamConfig (needs name, imageEncoder, promptEncoder, maskDecoder)`,
    );
  }
  return o as SamConfig;
}

/**
 * Loads SAM weights from a path or a registry name (`tiny_vit`, `vit_b`, …; downloaded and cached,
 * see `resolveCheckpoint`). The config comes from `samtune.config` metadata when present, else is
 * inferred from shapes. Weights are row-major host tensors keyed as the official state dict.
 * @throws CheckpointKeysError listing all missing/unexpected/mis-shaped keys (unless validate=false)
 * @throws NonFiniteWeightsError naming each tensor holding NaN/±Infinity (unless checkFinite=false)
 */
export async function loadSamCheckpoint(
  nameOrPath: string,
  opts: LoadSamCheckpointOptions = {},
): Promise<LoadedSamCheckpoint> {
  return loadCheckpoint(nameOrPath, opts, undefined);
}

function refuseSam2(weights: WeightMap, path: string): void {
  if (isSam2Keys(weights.keys()))
    throw new Sam2CheckpointForSam1Error(
      `loadSamCheckpoint(${path}): expected a SAM 1 checkpoint (image_encoder.* + mask_decoder.*), got a SAM 2.1 one (image_encoder.trunk.*, sam_mask_decoder.*); load it with loadSam2Checkpoint (samtune: SAM 2.1 supports 'embed' so far)`,
    );
}

/** `loadSamCheckpoint`; `baseOf`: the fine-tuned file this one is loaded as the base of (then it must be complete). */
async function loadCheckpoint(
  nameOrPath: string,
  opts: LoadSamCheckpointOptions,
  baseOf: string | undefined,
): Promise<LoadedSamCheckpoint> {
  const resolved = await resolveCheckpointDetailed(nameOrPath, opts);
  const path = resolved.path;
  let weights: WeightMap;
  let config: SamConfig;
  let base: LoadedSamCheckpoint['base'];
  if (sniff(path) === 'torch') {
    weights = readTorchCheckpoint(path);
    refuseSam2(weights, path);
    config = inferSamConfig(weights);
  } else {
    const st = readSafetensors(path);
    weights = st.tensors;
    const ref = readBaseCheckpointRef(st.metadata, path);
    if (ref && baseOf !== undefined)
      throw new BaseCheckpointNestedError(
        `loadSamCheckpoint(${baseOf}): expected its base checkpoint to be a complete checkpoint, got ${path}, itself a fine-tuned checkpoint naming the base ${ref.path}; a base is followed one level only`,
      );
    if (ref) {
      const { baseCheckpoint, ...rest } = opts;
      const load = (p: string): Promise<LoadedSamCheckpoint> => loadCheckpoint(p, rest, path);
      const merged = await mergeBaseCheckpoint(path, weights, ref, load, baseCheckpoint);
      weights = merged.weights;
      base = merged.base;
    }
    const stored = st.metadata[SAMTUNE_CONFIG_KEY];
    refuseSam2(weights, path);
    config = stored !== undefined ? parseStoredConfig(stored, path) : inferSamConfig(weights);
  }
  if (opts.validate !== false) validateWeights(weights, config, path);
  if (opts.checkFinite !== false) checkFiniteWeights(weights, path);
  const sha256 = resolved.sha256 ?? (await sha256File(path));
  return { config, weights, sha256, path, ...(base ? { base } : {}) };
}

/**
 * Writes SAM weights as safetensors (atomically) with the config in `samtune.config`, so
 * `loadSamCheckpoint` reads it back without inference. `metadata` adds more string entries.
 */
export function writeSamSafetensors(
  path: string,
  weights: WeightMap,
  config: SamConfig,
  metadata: Record<string, string> = {},
): void {
  writeSafetensors(path, weights, { ...metadata, [SAMTUNE_CONFIG_KEY]: JSON.stringify(config) });
}

/**
 * Writes a fine-tuned checkpoint holding only `trained` (e.g. `mask_decoder.*`), the config and a
 * reference to the base checkpoint (`fine-tuned.ts`); `loadSamCheckpoint` completes it from the base.
 */
export function writeFineTunedSafetensors(
  path: string,
  trained: WeightMap,
  config: SamConfig,
  base: BaseCheckpointRef,
  metadata: Record<string, string> = {},
): void {
  const ref = { path: base.path, sha256: base.sha256, ...(base.source !== undefined ? { source: base.source } : {}) };
  writeSamSafetensors(path, trained, config, { ...metadata, [BASE_CHECKPOINT_KEY]: JSON.stringify(ref) });
}
