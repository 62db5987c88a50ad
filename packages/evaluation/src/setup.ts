/**
 * What training and evaluation share: the tfjs backend (with the onnxruntime kernels on wasm), the
 * checkpoint, the dataset subsets, the embedding cache (its encoder session built on the first miss)
 * and the predictor whose mask-decoder variables train.
 */
import { loadDataset, splitDataset } from '@samtune/datasets';
import type { Dataset } from '@samtune/datasets';
import {
  ImageEncoderSession,
  initBackend,
  installOrtKernels,
  loadSamCheckpoint,
  SamPredictor,
} from '@samtune/sam-model';
import {
  loadSam2Checkpoint,
  Sam2EncoderSession,
  Sam2Predictor,
  sam2PredictorWeights,
  type LoadedSam2Checkpoint,
  type LoadedSamCheckpoint,
  type OrtKernelsHandle,
} from '@samtune/sam-model';
import { EmbeddingCache, imageEncoderKey } from './embedding-cache.js';
import type { EvalEvent, EvalEventHandler } from './events.js';
import type { TrainItem } from '@samtune/training-data';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Validation subset names tried, in order, when the config says `auto`. */
export const VAL_SUBSET_CANDIDATES = ['val', 'valid', 'validation', 'test'] as const;

/** Thrown when a requested subset does not exist or is empty. */
export class SubsetError extends SamtuneError {
  readonly code: string = 'subset';
  readonly kind: ErrorKind = 'input';
}

/** The backend in use and whether the ORT kernels were installed. */
export interface RuntimeInfo {
  readonly backend: string;
  readonly ortKernels: boolean;
  /** The backend and its kernels, e.g. `tfjs backend 'wasm' with onnxruntime-node … kernels`. */
  readonly detail: string;
  /** Backends tried first that could not start, with the reason. */
  readonly skipped: readonly { readonly name: string; readonly reason: string }[];
  /** Restores the stock kernels. */
  release(): void;
}

let ortHandle: OrtKernelsHandle | undefined;

/**
 * Selects the tfjs backend (`''` = automatic) and, on wasm with `ortKernels`, installs the
 * onnxruntime-backed BatchMatMul/Sum/Tile kernels (once per process).
 */
/** The `backend` progress event of a set-up runtime (evaluation and training report it alike). */
export function backendEvent(runtime: RuntimeInfo): Extract<EvalEvent, { type: 'backend' }> {
  const { backend, ortKernels, detail, skipped } = runtime;
  return { type: 'backend', backend, ortKernels, detail, skipped };
}

export async function setupRuntime(backend: string, ortKernels: boolean): Promise<RuntimeInfo> {
  const info = await initBackend(backend || undefined);
  let installed = false;
  let detail = `tfjs backend '${info.name}'`;
  if (info.name === 'wasm' && ortKernels) {
    ortHandle ??= installOrtKernels();
    installed = ortHandle.installed;
    detail += installed
      ? ' with onnxruntime-node BatchMatMul/Sum/Tile kernels'
      : ` (onnxruntime kernels not installed: ${ortHandle.reason ?? 'unknown'})`;
  } else if (info.name === 'wasm') {
    detail += ' with its stock kernels (onnxruntime kernels disabled)';
  }
  return {
    backend: info.name,
    ortKernels: installed,
    detail,
    skipped: info.skipped,
    release: () => {
      ortHandle?.uninstall();
      ortHandle = undefined;
    },
  };
}

/**
 * A subset name as the tools spell it, reduced for lookup: lower case, a trailing year dropped
 * (`val2017`), and `valid` / `validation` -> `val`, `training` -> `train`, `testing` -> `test`
 * (CVAT project exports name their subsets `Train` / `Validation` / `Test`).
 */
export function canonicalSubsetName(name: string): string {
  const n = name.toLowerCase().replace(/[-_]?(19|20)\d\d$/, '');
  return n === 'valid' || n === 'validation' ? 'val' : n === 'training' ? 'train' : n === 'testing' ? 'test' : n;
}

/** The dataset's non-empty subset for `name`: the exact name, else the same name in any case, else the same canonical name. */
function findSubset(dataset: Dataset, name: string): string | undefined {
  const names = Object.keys(dataset.subsets).filter((k) => (dataset.subsets[k]?.length ?? 0) > 0);
  return (
    names.find((k) => k === name) ??
    names.find((k) => k.toLowerCase() === name.toLowerCase()) ??
    names.find((k) => canonicalSubsetName(k) === canonicalSubsetName(name))
  );
}

/** At most 3 reasons, then how many more. */
function firstReasons(reasons: readonly string[]): string {
  const shown = reasons.slice(0, 3).join('; ');
  return reasons.length > 3 ? `${shown}; and ${reasons.length - 3} more` : shown;
}

/**
 * A subset by name (case-insensitive; `validation` / `valid` / `val2017` find `val` and back, see
 * `canonicalSubsetName`); `auto` tries `candidates`.
 * @throws SubsetError naming what the dataset has, and why the wanted subset is empty when the
 *   loader left its images out (a missing or bad image was the only one of the subset)
 */
export function pickSubset(
  dataset: Dataset,
  name: string,
  candidates: readonly string[] = VAL_SUBSET_CANDIDATES,
): { name: string; items: readonly TrainItem[] } {
  const names = name === 'auto' ? candidates : [name];
  for (const n of names) {
    const found = findSubset(dataset, n);
    if (found) return { name: found, items: dataset.subsets[found] ?? [] };
  }
  const wanted = new Set(names.map(canonicalSubsetName));
  const leftOut = dataset.skipped.filter((p) => p.subset !== undefined && wanted.has(canonicalSubsetName(p.subset)));
  const problems = leftOut.length > 0 ? leftOut : dataset.skipped;
  const why =
    problems.length > 0
      ? `; left out while loading (${problems.length} problem(s)): ${firstReasons(problems.map((p) => p.message))}`
      : '';
  throw new SubsetError(
    `pickSubset(${dataset.root}, '${name}'): no non-empty subset ${name === 'auto' ? `among ${candidates.join(', ')}` : `'${name}'`}; the dataset has ${
      Object.entries(dataset.subsets)
        .map(([k, v]) => `${k} (${v.length})`)
        .join(', ') || 'no subsets'
    }${why}`,
  );
}

/**
 * The subset's items that are still usable after the embedding pass left out `unreadable` images.
 * @throws SubsetError when none is left, saying which images were left out and why
 */
export function usableItems(
  caller: string,
  subset: { readonly name: string; readonly items: readonly TrainItem[] },
  unreadable: readonly { readonly imagePath: string; readonly message: string }[],
): readonly TrainItem[] {
  const why = new Map(unreadable.map((u) => [u.imagePath, u.message]));
  const items = subset.items.filter((i) => !why.has(i.imagePath));
  if (items.length === 0 && subset.items.length > 0)
    throw new SubsetError(
      `${caller}: subset '${subset.name}' has no image left: its ${subset.items.length} image(s) could not be read and were skipped: ${firstReasons(subset.items.map((i) => why.get(i.imagePath) ?? i.imagePath))}`,
    );
  return items;
}

/** Loads a dataset (format `auto` detects it); `images` is the image folder of a COCO JSON file given as `root`. */
export async function openDataset(root: string, format: string, strict = false, images?: string): Promise<Dataset> {
  return loadDataset(root, { ...(format === 'auto' ? {} : { format }), strict, ...(images ? { images } : {}) });
}

/** Default validation fraction of a one-subset dataset (`data.val-fraction`). */
export const DEFAULT_VAL_FRACTION = 0.2;

/** How a dataset with a single subset is split (`splitDataset`): the validation fraction and the seed. */
export interface SplitSpec {
  /** Fraction of the images that become `val`, in [0, 1); 0 = no split. */
  readonly valFraction: number;
  readonly seed: number;
}

/**
 * Loads a dataset and, when it has exactly one subset (a CVAT / Label Studio COCO export, a CSS
 * folder), splits it by seed into `train` and `val` (`splitDataset`). `split` says what was done,
 * in one sentence, or is undefined when the dataset was left as it is.
 */
export async function openSplitDataset(
  root: string,
  format: string,
  split: SplitSpec,
  options: { readonly strict?: boolean; readonly images?: string } = {},
): Promise<{ dataset: Dataset; split?: string }> {
  const dataset = await openDataset(root, format, options.strict ?? false, options.images);
  const names = Object.keys(dataset.subsets);
  if (names.length !== 1 || split.valFraction <= 0) return { dataset };
  const only = names[0] as string;
  const n = dataset.subsets[only]?.length ?? 0;
  const out = splitDataset(dataset, { seed: split.seed, val: split.valFraction });
  return {
    dataset: out,
    split: `one subset '${only}' (${n} images): split by seed ${split.seed} into train ${out.subsets.train?.length ?? 0} / val ${out.subsets.val?.length ?? 0} images (data.val-fraction ${split.valFraction})`,
  };
}

/** A checkpoint with its embedding cache and predictor. */
export interface ModelContext {
  readonly checkpoint: LoadedSamCheckpoint;
  readonly predictor: SamPredictor;
  readonly cache: EmbeddingCache;
  dispose(): void;
}

/** A SAM 2.1 checkpoint with its embedding cache (family `sam2`: + high-res levels) and predictor. */
export interface Sam2ModelContext {
  readonly checkpoint: LoadedSam2Checkpoint;
  readonly predictor: Sam2Predictor;
  readonly cache: EmbeddingCache;
  dispose(): void;
}

/** `openModel` for a SAM 2.1 checkpoint (`checkpointFamily`): the Hiera encoder session is built lazily. */
export async function openSam2Model(
  checkpointNameOrPath: string,
  cacheDir: string,
  onEvent?: EvalEventHandler,
): Promise<Sam2ModelContext> {
  const checkpoint = await loadSam2Checkpoint(checkpointNameOrPath);
  const { config, weights } = checkpoint;
  onEvent?.({
    type: 'info',
    message: `checkpoint ${checkpoint.path} (SAM 2.1 ${config.name}, sha256 ${checkpoint.sha256.slice(0, 12)}…)`,
  });
  const predictor = new Sam2Predictor({ config, weights: sam2PredictorWeights(weights), trainable: false });
  const cache = new EmbeddingCache({
    dir: cacheDir,
    family: 'sam2',
    encoderKey: imageEncoderKey(config, weights),
    embedder: async () => {
      onEvent?.({ type: 'info', message: 'building the SAM 2.1 image encoder session (onnxruntime-node)' });
      return Sam2EncoderSession.create(config.imageEncoder, weights);
    },
  });
  return { checkpoint, predictor, cache, dispose: () => predictor.dispose() };
}

/** Loads the checkpoint, builds the predictor and the cache (encoder session built lazily). */
export async function openModel(
  checkpointNameOrPath: string,
  cacheDir: string,
  onEvent?: EvalEventHandler,
): Promise<ModelContext> {
  const checkpoint = await loadSamCheckpoint(checkpointNameOrPath);
  const { config, weights } = checkpoint;
  onEvent?.({
    type: 'info',
    message: `checkpoint ${checkpoint.path} (${config.name}, sha256 ${checkpoint.sha256.slice(0, 12)}…)`,
  });
  const predictor = new SamPredictor({ config, weights });
  const cache = new EmbeddingCache({
    dir: cacheDir,
    encoderKey: imageEncoderKey(config, weights),
    embedder: async () => {
      onEvent?.({ type: 'info', message: 'building the image encoder session (onnxruntime-node)' });
      return ImageEncoderSession.create(config.imageEncoder, weights);
    },
  });
  return { checkpoint, predictor, cache, dispose: () => predictor.dispose() };
}
