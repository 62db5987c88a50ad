/**
 * Training configuration: defaults (the reference recipe), merging of partial configs (a YAML file,
 * CLI flags) and dotted overrides (`optimizer.lr=1e-4`, `data.train.batch-size=4`; kebab-case and
 * camelCase keys are the same key).
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Training engines (`runtime.engine`). */
export type TrainEngineName = 'ort' | 'tfjs';

/** How prompts are built from each instance. */
import {
  DEFAULT_MICRO_BATCH,
  DEFAULT_VAL_FRACTION,
  defaultEmbeddingCacheDir,
  type PromptModeOption,
} from '@samtune/evaluation';
export type { PromptModeOption } from '@samtune/evaluation';
import { checkRecipeEngine, LOSS_RESOLUTIONS, type LossResolution } from './recipe/options.js';

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
      train: { subset: 'train', batchSize: 2, maxInstances: 0 },
      val: { subset: 'auto', maxInstances: 0 },
    },
    prompt: { mode: 'box', points: 1, jitterFraction: 0, jitterPixels: 0, iterations: 0 },
    loss: { resolution: 'lowres' },
    optimizer: { lr: 1e-5, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 },
    training: { epochs: 100, microBatch: DEFAULT_MICRO_BATCH, seed: 0 },
    earlyStopping: { enabled: true, minDelta: 0.001, patience: 3, warmupEpochs: 3 },
    runtime: { engine: 'ort', backend: '', ortKernels: true, cacheDir: defaultEmbeddingCacheDir() },
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

/**
 * Checks ranges and required values.
 * @throws TrainConfigError naming the key, the expected range and the value.
 */
export function validateTrainConfig(c: TrainConfig): TrainConfig {
  const need = (ok: boolean, key: string, want: string, got: unknown): void => {
    if (!ok) throw new TrainConfigError(`config '${key}': expected ${want}, got ${JSON.stringify(got)}`);
  };
  need(c.checkpoint !== '', 'checkpoint', 'a checkpoint name or path', c.checkpoint);
  need(c.data.root !== '', 'data.root', 'a dataset directory', c.data.root);
  need(c.out !== '', 'out', 'a run directory', c.out);
  const posInt = (v: number): boolean => Number.isInteger(v) && v >= 1;
  const natInt = (v: number): boolean => Number.isInteger(v) && v >= 0;
  need(c.data.valFraction >= 0 && c.data.valFraction < 1, 'data.valFraction', 'a number in [0, 1)', c.data.valFraction);
  need(posInt(c.data.train.batchSize), 'data.train.batchSize', 'an integer >= 1', c.data.train.batchSize);
  need(
    natInt(c.data.train.maxInstances),
    'data.train.maxInstances',
    'an integer >= 0 (0 = all)',
    c.data.train.maxInstances,
  );
  need(natInt(c.data.val.maxInstances), 'data.val.maxInstances', 'an integer >= 0 (0 = all)', c.data.val.maxInstances);
  need(['box', 'point', 'both'].includes(c.prompt.mode), 'prompt.mode', 'box, point or both', c.prompt.mode);
  need(posInt(c.prompt.points), 'prompt.points', 'an integer >= 1', c.prompt.points);
  need(c.prompt.jitterFraction >= 0, 'prompt.jitterFraction', 'a number >= 0', c.prompt.jitterFraction);
  need(c.prompt.jitterPixels >= 0, 'prompt.jitterPixels', 'a number >= 0', c.prompt.jitterPixels);
  // run states written before these two keys existed resume with their defaults
  (c as { loss?: TrainConfig['loss'] }).loss ??= { resolution: 'lowres' };
  (c.prompt as { iterations?: number }).iterations ??= 0;
  need(natInt(c.prompt.iterations), 'prompt.iterations', 'an integer >= 0 (0 = off)', c.prompt.iterations);
  need(LOSS_RESOLUTIONS.includes(c.loss.resolution), 'loss.resolution', 'lowres or original', c.loss.resolution);
  need(c.optimizer.lr > 0 && Number.isFinite(c.optimizer.lr), 'optimizer.lr', 'a finite number > 0', c.optimizer.lr);
  need(['ort', 'tfjs'].includes(c.runtime.engine), 'runtime.engine', 'ort or tfjs', c.runtime.engine);
  checkRecipeEngine(c.runtime.engine, { resolution: c.loss.resolution, iterations: c.prompt.iterations });
  need(posInt(c.training.epochs), 'training.epochs', 'an integer >= 1', c.training.epochs);
  need(posInt(c.training.microBatch), 'training.microBatch', 'an integer >= 1', c.training.microBatch);
  need(Number.isInteger(c.training.seed), 'training.seed', 'an integer', c.training.seed);
  need(posInt(c.earlyStopping.patience), 'earlyStopping.patience', 'an integer >= 1', c.earlyStopping.patience);
  need(
    natInt(c.earlyStopping.warmupEpochs),
    'earlyStopping.warmupEpochs',
    'an integer >= 0',
    c.earlyStopping.warmupEpochs,
  );
  need(c.earlyStopping.minDelta >= 0, 'earlyStopping.minDelta', 'a number >= 0', c.earlyStopping.minDelta);
  return c;
}
