/**
 * Training configuration: defaults (the reference recipe), merging of partial configs (a YAML file,
 * CLI flags) and dotted overrides (`optimizer.lr=1e-4`, `data.train.batch-size=4`; kebab-case and
 * camelCase keys are the same key).
 */
import { schemaProblems, SamtuneError, type ErrorKind } from '@samtune/errors';
import { TrainConfigSchema } from './config-schema.js';

/** Training engines (`runtime.engine`). */
export type TrainEngineName = 'ort' | 'tfjs';

/** How prompts are built from each instance. */
import {
  DEFAULT_MICRO_BATCH,
  DEFAULT_VAL_FRACTION,
  defaultEmbeddingCacheDir,
  type CrowdPolicy,
  type PromptModeOption,
} from '@samtune/evaluation';
export type { PromptModeOption } from '@samtune/evaluation';
import { checkRecipeEngine, type LossResolution } from './recipe/options.js';

export interface TrainConfig {
  /** Registry name (`tiny_vit`, …) or path of a `.pth`/`.pt`/`.safetensors` checkpoint. */
  checkpoint: string;
  data: {
    /** Dataset root directory, or a COCO instances JSON file (images in `images`). */
    root: string;
    /** Image folder of a COCO JSON `root`; empty = the file's folder. */
    images: string;
    /**
     * A dataset with ONE subset (CVAT / Label Studio COCO exports, CSS folders) is split by
     * `training.seed` into `train` and `val` with this fraction of the images in `val`. 0 = no split.
     * Default 0.2. Datasets with two or more subsets keep their own split.
     */
    valFraction: number;
    /**
     * Dataset plugin modules (file paths or package names, see `loadDatasetPlugins`) that register
     * adapters before the dataset is read — in the training worker thread too. Default none.
     */
    plugins: string[];
    /** `auto` or an adapter name (`coco`, `voc`, `css`, `datumaro`). */
    format: string;
    /** Stop at the first bad image or annotation instead of reporting and skipping it. Default false. */
    strict: boolean;
    /**
     * What crowd instances (COCO `iscrowd: 1`) are: `keep` (default) — objects like the others (CVAT's
     * COCO export writes every mask-tool object so); `ignore` — COCO's crowd regions, left out of
     * training and validation (counted in the dataset line).
     */
    crowd: CrowdPolicy;
    train: {
      /** Subset name. Default `train`. */
      subset: string;
      /** Images per optimizer step (all their instances are prompts). Default 2. */
      batchSize: number;
      /** Instances per image per epoch (a seeded random choice), 0 = all. Default 0. */
      maxInstances: number;
    };
    val: {
      /** Subset name; `auto` picks the first of `val`, `valid`, `validation`, `test`. */
      subset: string;
      /** Instances per image (the first ones, fixed), 0 = all. Default 0. */
      maxInstances: number;
    };
  };
  prompt: {
    /** `box` (default), `point`, or `both` (box priority: the box alone whenever an instance has one). */
    mode: PromptModeOption;
    /** Positive points per point prompt (1 = SAM's ambiguous single click, multimask). Default 1. */
    points: number;
    /** Box jitter during training: largest shift as a fraction of the box side (0 = off). Default 0. */
    jitterFraction: number;
    /** Box jitter cap in original pixels (0 = no cap). Default 0. */
    jitterPixels: number;
    /**
     * Iterative simulated clicks (SAM paper, micro-sam; `recipe/simulated-clicks.ts`): after each
     * decoder pass a click is drawn (seeded, uniform) in the error region, appended to the points, and
     * the pass's logits become the next mask input; the loss is the mean over the `1 + N` passes.
     * 0 = off (default). tfjs engine only.
     */
    iterations: number;
  };
  loss: {
    /**
     * `lowres` (default, SAM): loss on the 256x256 low-res logits; `original` (OTX): on the logits
     * post-processed to the original image size, against the original-size mask
     * (`recipe/loss-resolution.ts`: memory and time grow with H*W). tfjs engine only.
     */
    resolution: LossResolution;
  };
  optimizer: {
    /** Learning rate. Default 1e-5. */
    lr: number;
    betas: [number, number];
    eps: number;
    weightDecay: number;
  };
  training: {
    /** Maximum epochs. Default 100. */
    epochs: number;
    /** Prompts per forward/backward (gradients accumulated over a batch). Default 4. */
    microBatch: number;
    /** Seed of shuffling, instance caps, jitter and point sampling. Default 0. */
    seed: number;
  };
  earlyStopping: {
    enabled: boolean;
    /** Monitored metric: validation F1, mode max. */
    minDelta: number;
    patience: number;
    /** Leading epochs not monitored. */
    warmupEpochs: number;
  };
  runtime: {
    /**
     * Training engine: `ort` (default) runs the decoder's forward, loss, backward and Adam as
     * onnxruntime-node graphs; `tfjs` is the reference path (and the tfjs-node-gpu one).
     */
    engine: TrainEngineName;
    /** tfjs backend (`wasm`, `cpu`, `tensorflow`, …); empty = automatic (`initBackend`). */
    backend: string;
    /** Use the onnxruntime-backed BatchMatMul/Sum/Tile kernels on the wasm backend. Default true. */
    ortKernels: boolean;
    /**
     * ort engine: keep onnxruntime's CPU memory arena for the training sessions of full micro-batches
     * (`training.microBatch` prompts) and of single prompts, so each step reuses its activations'
     * memory instead of mapping it afresh: ~0.7x the step time, for ~90 MB more resident memory per
     * prompt of those sessions, given back when each epoch's training pass ends
     * (`bench/results/train.md`). Default true; false for the least memory.
     */
    ortArena: boolean;
    /** Embedding cache directory. Default `<samtune cache>/embeddings`. */
    cacheDir: string;
  };
  /** Run directory (`runs/<name>`). */
  out: string;
}

/** Thrown for an unknown key, a value of the wrong type, or a missing required value. */
export class TrainConfigError extends SamtuneError {
  readonly code: string = 'train-config';
  readonly kind: ErrorKind = 'input';
  override readonly name = 'TrainConfigError';
}

/** Recursive partial, for YAML files and flags. */
export type PartialTrainConfig = {
  [K in keyof TrainConfig]?: TrainConfig[K] extends object ? DeepPartial<TrainConfig[K]> : TrainConfig[K];
};
type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

/** The defaults (reference recipe); `checkpoint`, `data.root` and `out` must be set by the caller. */
export function defaultTrainConfig(): TrainConfig {
  return {
    checkpoint: '',
    data: {
      root: '',
      images: '',
      valFraction: DEFAULT_VAL_FRACTION,
      plugins: [],
      format: 'auto',
      strict: false,
      crowd: 'keep',
      train: { subset: 'train', batchSize: 2, maxInstances: 0 },
      val: { subset: 'auto', maxInstances: 0 },
    },
    prompt: { mode: 'box', points: 1, jitterFraction: 0, jitterPixels: 0, iterations: 0 },
    loss: { resolution: 'lowres' },
    optimizer: { lr: 1e-5, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 },
    training: { epochs: 100, microBatch: DEFAULT_MICRO_BATCH, seed: 0 },
    earlyStopping: { enabled: true, minDelta: 0.001, patience: 3, warmupEpochs: 3 },
    runtime: { engine: 'ort', backend: '', ortKernels: true, ortArena: true, cacheDir: defaultEmbeddingCacheDir() },
    out: '',
  };
}

const camel = (k: string): string => k.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Converts a string flag value to the type of `current`. */
function coerce(path: string, current: unknown, value: unknown): unknown {
  if (typeof value !== 'string') {
    if (typeof current === typeof value || (Array.isArray(current) && Array.isArray(value))) return value;
    throw new TrainConfigError(
      `config '${path}': expected a ${Array.isArray(current) ? 'list' : typeof current}, got ${JSON.stringify(value)}`,
    );
  }
  if (typeof current === 'number') {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n))
      throw new TrainConfigError(`config '${path}': expected a number, got '${value}'`);
    return n;
  }
  if (typeof current === 'boolean') {
    if (['true', '1', 'yes', 'on'].includes(value)) return true;
    if (['false', '0', 'no', 'off'].includes(value)) return false;
    throw new TrainConfigError(`config '${path}': expected true/false, got '${value}'`);
  }
  if (Array.isArray(current)) {
    const parts = value.split(',').map((s) => Number(s.trim()));
    if (parts.length !== current.length || parts.some((n) => !Number.isFinite(n))) {
      throw new TrainConfigError(
        `config '${path}': expected ${current.length} comma-separated numbers, got '${value}'`,
      );
    }
    return parts;
  }
  return value;
}

/** Sets one dotted key (`optimizer.lr`, `data.train.batch-size`) from a string or typed value, in place. */
export function applyOverride(config: TrainConfig, dottedKey: string, value: unknown): void {
  const keys = dottedKey.split('.').map(camel);
  let node: Record<string, unknown> = config as unknown as Record<string, unknown>;
  for (const [i, k] of keys.entries()) {
    const path = keys.slice(0, i + 1).join('.');
    if (!Object.prototype.hasOwnProperty.call(node, k)) {
      throw new TrainConfigError(
        `config: unknown key '${dottedKey}' ('${path}' is not one of ${Object.keys(node).join(', ')})`,
      );
    }
    if (i === keys.length - 1) {
      if (isObject(node[k]))
        throw new TrainConfigError(
          `config: '${dottedKey}' is a section (${Object.keys(node[k] as object).join(', ')}), not a value`,
        );
      node[k] = coerce(path, node[k], value);
      return;
    }
    const next = node[k];
    if (!isObject(next)) throw new TrainConfigError(`config: '${path}' is a value, '${dottedKey}' cannot go below it`);
    node = next;
  }
}

/** Merges a nested partial config (a parsed YAML file) into `config`, in place; unknown keys throw. */
export function mergeConfig(config: TrainConfig, partial: unknown, prefix = ''): void {
  if (partial === undefined || partial === null) return;
  if (!isObject(partial))
    throw new TrainConfigError(
      `config${prefix ? ` '${prefix}'` : ''}: expected a mapping, got ${JSON.stringify(partial)}`,
    );
  for (const [k, v] of Object.entries(partial)) {
    const key = prefix ? `${prefix}.${camel(k)}` : camel(k);
    if (isObject(v)) mergeConfig(config, v, key);
    else applyOverride(config, key, v);
  }
}

/** Fills the keys `c` lacks from `defaults`, in place (run states saved before a key existed). */
function fillMissing(c: Record<string, unknown>, defaults: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(defaults)) {
    if (!(k in c)) c[k] = v;
    else if (isObject(v) && isObject(c[k])) fillMissing(c[k] as Record<string, unknown>, v);
  }
}

/**
 * Checks types, ranges and required values against `TrainConfigSchema` (TypeBox); keys missing from
 * a run state saved by an older version take today's defaults.
 * @throws TrainConfigError naming every bad key, the expected range and the value.
 */
export function validateTrainConfig(c: TrainConfig): TrainConfig {
  fillMissing(c as unknown as Record<string, unknown>, defaultTrainConfig() as unknown as Record<string, unknown>);
  const problems = schemaProblems(TrainConfigSchema, c);
  if (problems.length > 0)
    throw new TrainConfigError(
      problems
        .map(
          (p) =>
            `config '${p.path}': expected ${p.expected ?? p.message.replace(/^must /, '')}, got ${JSON.stringify(p.value)}`,
        )
        .join('; '),
    );
  checkRecipeEngine(c.runtime.engine, { resolution: c.loss.resolution, iterations: c.prompt.iterations });
  return c;
}
