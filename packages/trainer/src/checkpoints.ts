/**
 * Files of a run directory `runs/<name>/`:
 * - `best.safetensors`, `last.safetensors`: only the tensors that were trained (`mask_decoder.*`,
 *   ~16 MB for any SAM size) with the base checkpoint's path and SHA-256 (`samtune.base_checkpoint`;
 *   `loadSamCheckpoint` loads the base and puts the decoder in place, or says the base is missing),
 *   written atomically with the config (`samtune.config`), the training arguments
 *   (`samtune.training_args`), the metrics (`samtune.metrics`) and the epoch.
 * - `config.yaml`, `results.csv` (see `run-files.ts`), `train.jsonl` (`run-log.ts`), `report.md`,
 *   `curves.svg` (`report.ts`), `metrics.json`.
 * - `state.safetensors`: everything a resume needs, in ONE atomic file: the decoder weights
 *   (`decoder.<key>`), Adam's moments (`adam.m.<key>`, `adam.v.<key>`) and, as JSON metadata
 *   (`samtune.run_state`), the epoch count, the early-stopping state, the history and the config.
 *   The per-epoch random generators derive from (seed, epoch), so no generator state is needed.
 * Atomic writes (temp file + rename) mean a kill leaves either the previous or the new file.
 */
import { sam2OfficialKey, writeFineTunedSafetensors, writeSam2Safetensors } from '@samtune/sam-model';
import { readSafetensors, writeSafetensors } from '@samtune/tensor-files';
import type { BaseCheckpointRef, FloatTensor, Sam2Config, SamConfig, WeightMap } from '@samtune/sam-model';
import type { AdamState } from './engine/types.js';
import type { EarlyStoppingState } from './early-stopping.js';
import type { TrainConfig } from './config.js';
import type { EvalResult } from '@samtune/evaluation';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Metadata keys of model checkpoints written by the trainer. */
export const CHECKPOINT_META = {
  trainingArgs: 'samtune.training_args',
  metrics: 'samtune.metrics',
  epoch: 'samtune.epoch',
  baseSha256: 'samtune.base_checkpoint_sha256',
  kind: 'samtune.checkpoint_kind',
} as const;

/** Metadata key of the run state JSON. */
export const RUN_STATE_KEY = 'samtune.run_state';
/** Version of the run state layout. */
export const RUN_STATE_VERSION = 1;

/** One finished epoch. Epochs are numbered from 1 in records and reports. */
export interface EpochRecord {
  readonly epoch: number;
  /** Mean training loss over the epoch's prompts, and its parts. */
  readonly trainLoss: number;
  readonly trainFocal: number;
  readonly trainDice: number;
  readonly trainIou: number;
  readonly steps: number;
  readonly prompts: number;
  readonly val: EvalResult;
  readonly trainSeconds: number;
  readonly valSeconds: number;
  /** Val F1 was the best so far (best.safetensors written). */
  readonly best: boolean;
}

/** The JSON part of the run state. */
export interface RunStateMeta {
  readonly version: number;
  readonly config: TrainConfig;
  /** Finished epochs (the next one is `epochsDone + 1`). */
  readonly epochsDone: number;
  readonly history: readonly EpochRecord[];
  /** Validation metrics of the base weights, before training. */
  readonly zeroShot: EvalResult | null;
  readonly bestEpoch: number | null;
  readonly earlyStopping: EarlyStoppingState;
  readonly adamStep: number;
  readonly adamSteps: Record<string, number>;
  readonly finished: boolean;
  readonly stopReason: string | null;
  readonly baseCheckpoint: { readonly path: string; readonly sha256: string };
  /** First embedding pass of the run (the one that filled the cache), seconds and counts. */
  readonly embeddingPass: { readonly seconds: number; readonly computed: number; readonly hits: number } | null;
  readonly backend: string;
}

/** Thrown when a state file is missing pieces or of another version. */
export class RunStateError extends SamtuneError {
  readonly code: string = 'run-state';
  readonly kind: ErrorKind = 'input';
}

/**
 * Writes a model checkpoint: the trained `decoder` tensors and a reference to `base`, the checkpoint
 * they were fine-tuned from (its other weights are read from there at load time).
 */
export function writeModelCheckpoint(
  path: string,
  base: BaseCheckpointRef,
  decoder: WeightMap,
  config: SamConfig,
  info: CheckpointInfo,
): void {
  writeFineTunedSafetensors(path, decoder, config, base, checkpointMeta(base.sha256, info));
}

/** What a best/last checkpoint records about its training. */
export interface CheckpointInfo {
  readonly kind: 'best' | 'last';
  readonly epoch: number;
  readonly trainingArgs: unknown;
  readonly metrics: unknown;
}

function checkpointMeta(baseSha256: string, info: CheckpointInfo): Record<string, string> {
  return {
    [CHECKPOINT_META.kind]: info.kind,
    [CHECKPOINT_META.epoch]: String(info.epoch),
    [CHECKPOINT_META.baseSha256]: baseSha256,
    [CHECKPOINT_META.trainingArgs]: JSON.stringify(info.trainingArgs),
    [CHECKPOINT_META.metrics]: JSON.stringify(info.metrics),
  };
}

/**
 * SAM 2.1: the COMPLETE image-mode checkpoint (official key names, config in the metadata) with the
 * trained decoder tensors (samtune names, mapped by `sam2OfficialKey`), so that `eval`, `predict` and
 * `export` load it alone (SAM 1 checkpoints hold only the decoder and name their base).
 */
export function writeSam2ModelCheckpoint(
  path: string,
  baseWeights: WeightMap,
  baseSha256: string,
  config: Sam2Config,
  decoder: WeightMap,
  info: CheckpointInfo,
): void {
  const weights: WeightMap = new Map(baseWeights);
  for (const [k, t] of decoder) weights.set(sam2OfficialKey(k), t);
  writeSam2Safetensors(path, weights, config, checkpointMeta(baseSha256, info));
}

/** Writes the run state atomically. */
export function saveRunState(path: string, meta: RunStateMeta, decoder: WeightMap, adam: AdamState): void {
  const tensors: WeightMap = new Map();
  for (const [k, t] of decoder) tensors.set(`decoder.${k}`, t);
  for (const [k, m] of Object.entries(adam.m)) {
    const shape = decoder.get(k)?.shape ?? [m.length];
    tensors.set(`adam.m.${k}`, { dtype: 'float32', shape, data: m });
    tensors.set(`adam.v.${k}`, { dtype: 'float32', shape, data: adam.v[k] as Float32Array });
  }
  writeSafetensors(path, tensors, {
    [RUN_STATE_KEY]: JSON.stringify({ ...meta, adamStep: adam.step, adamSteps: adam.steps }),
  });
}

/** Reads a run state: the JSON part, the decoder weights and the Adam state. */
export function loadRunState(path: string): { meta: RunStateMeta; decoder: WeightMap; adam: AdamState } {
  const { tensors, metadata } = readSafetensors(path);
  const json = metadata[RUN_STATE_KEY];
  if (json === undefined)
    throw new RunStateError(`loadRunState(${path}): no '${RUN_STATE_KEY}' metadata; not a samtune run state`);
  const meta = JSON.parse(json) as RunStateMeta;
  if (meta.version !== RUN_STATE_VERSION)
    throw new RunStateError(`loadRunState(${path}): state version ${meta.version}, expected ${RUN_STATE_VERSION}`);
  const decoder: WeightMap = new Map();
  const m: Record<string, Float32Array> = {};
  const v: Record<string, Float32Array> = {};
  for (const [k, t] of tensors) {
    if (t.dtype !== 'float32')
      throw new RunStateError(`loadRunState(${path}): tensor '${k}' is ${t.dtype}, expected float32`);
    const data = (t as FloatTensor).data;
    if (k.startsWith('decoder.')) decoder.set(k.slice('decoder.'.length), t);
    else if (k.startsWith('adam.m.')) m[k.slice('adam.m.'.length)] = data;
    else if (k.startsWith('adam.v.')) v[k.slice('adam.v.'.length)] = data;
  }
  if (decoder.size === 0) throw new RunStateError(`loadRunState(${path}): no 'decoder.*' tensors`);
  return { meta, decoder, adam: { step: meta.adamStep, steps: meta.adamSteps, m, v } };
}
