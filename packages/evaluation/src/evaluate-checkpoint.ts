/**
 * `evaluateCheckpoint`: the metrics of a checkpoint (an official one: zero-shot, or a run's
 * `best.safetensors`) on a dataset subset, with the same prompts and metrics as training's
 * validation (see `evaluate.ts`). Embeddings come from (and go to) the embedding cache. Evaluation
 * never splits a dataset unless `valFraction` asks for training's split: a lone COCO file or a
 * one-subset folder is evaluated whole.
 */
import { defaultEmbeddingCacheDir } from './embedding-cache.js';
import { DEFAULT_MICRO_BATCH, TargetStore, type CrowdPolicy, type PromptModeOption } from '@samtune/training-data';
import { evaluate, type EvalResult } from './evaluate.js';
import type { EvalEventHandler } from './events.js';
import type { Dataset } from '@samtune/datasets';
import { checkpointFamily, SamPredictor, sam2PredictorWeights } from '@samtune/sam-model';
import { ortEvalDecoder, type EvalDecoder } from './eval-decoder.js';
import { sam2OrtEvalDecoder } from './sam2-eval-decoder.js';
import type { ClicksResult } from './clicks-to-quality.js';
import { evaluateClicks } from './evaluate-clicks.js';
import {
  canonicalSubsetName,
  openModel,
  openSam2Model,
  openSplitDataset,
  pickSubset,
  usableItems,
  setupRuntime,
  backendEvent,
  VAL_SUBSET_CANDIDATES,
} from './setup.js';

export interface EvaluateCheckpointOptions {
  /** Registry name or path (`.pth`, `.pt`, `.safetensors`, e.g. `runs/x/best.safetensors`). */
  readonly checkpoint: string;
  /** Dataset folder, or a COCO instances JSON file (see `images`). */
  readonly dataRoot: string;
  /** Image folder of a COCO JSON `dataRoot` (default: the file's folder). */
  readonly images?: string;
  /**
   * Evaluation never splits a dataset by itself. Given (> 0), a dataset with one subset is split by
   * `seed` into train/val with this validation fraction — training's split, to score a run on its own
   * validation images. Default: no split.
   */
  readonly valFraction?: number;
  /** What crowd instances (`iscrowd`) are: `keep` (default, scored like the others) or `ignore` (left out, counted). */
  readonly crowd?: CrowdPolicy;
  /** Default `auto`. */
  readonly format?: string;
  /**
   * Subset name (case-insensitive; `val` also finds `valid`, `validation`, `val2017`). Default: the
   * validation subset, or the only subset of a one-subset dataset (a lone COCO file, a Roboflow
   * `test/` folder), which is then evaluated whole.
   */
  readonly subset?: string;
  /** Default `box`. */
  readonly prompt?: PromptModeOption;
  /** Points per point prompt. Default 1. */
  readonly points?: number;
  /** Instances per image, 0 = all (default). */
  readonly maxInstances?: number;
  /** Prompts per decoder call. Default `DEFAULT_MICRO_BATCH` (4). */
  readonly microBatch?: number;
  /** Default: the trainer's default cache directory. */
  readonly cacheDir?: string;
  readonly backend?: string;
  readonly ortKernels?: boolean;
  readonly seed?: number;
  /** Stop at the first bad image or annotation (default: report it, skip it, go on). */
  readonly strict?: boolean;
  /** Also measure clicks-to-quality (`evaluateClicks`) with at most this many clicks; 0/absent = off. */
  readonly clicks?: number;
  readonly onEvent?: EvalEventHandler;
}

/** One input left out of the evaluation: a bad annotation/item of the dataset, or an unreadable image. */
export interface SkippedInput {
  readonly file: string;
  /** What was dropped: `file`, `item`, `annotation`, or `image` (could not be embedded). */
  readonly scope: string;
  readonly message: string;
}

/** Metrics plus where they came from. */
export interface CheckpointEvaluation {
  readonly metrics: EvalResult;
  readonly subset: string;
  readonly checkpointPath: string;
  readonly checkpointSha256: string;
  readonly backend: string;
  /** Everything reported and skipped: the dataset's problems of this subset, then unreadable images. */
  readonly skipped: readonly SkippedInput[];
  /** Clicks-to-quality, with `clicks`. */
  readonly clicks?: ClicksResult;
}

/** The subset to evaluate: `name`, or (undefined) the validation subset, else the only subset. */
function evaluationSubset(dataset: Dataset, name: string | undefined): ReturnType<typeof pickSubset> {
  if (name !== undefined) return pickSubset(dataset, name, [name]);
  const nonEmpty = Object.keys(dataset.subsets).filter((k) => (dataset.subsets[k]?.length ?? 0) > 0);
  if (nonEmpty.length === 1) return pickSubset(dataset, nonEmpty[0] as string);
  return pickSubset(
    dataset,
    'auto',
    VAL_SUBSET_CANDIDATES.filter((s) => s !== 'test'),
  );
}

/** Evaluates a checkpoint on a subset (see the module comment). */
export async function evaluateCheckpoint(o: EvaluateCheckpointOptions): Promise<CheckpointEvaluation> {
  const emit = o.onEvent ?? ((): void => {});
  const runtime = await setupRuntime(o.backend ?? '', o.ortKernels ?? true);
  emit(backendEvent(runtime));
  const opened = await openSplitDataset(
    o.dataRoot,
    o.format ?? 'auto',
    { valFraction: o.valFraction ?? 0, seed: o.seed ?? 0 },
    { strict: o.strict ?? false, ...(o.images ? { images: o.images } : {}) },
  );
  const dataset = opened.dataset;
  if (opened.split) emit({ type: 'info', message: `dataset: ${opened.split}` });
  const subset = evaluationSubset(dataset, o.subset);
  if (o.subset === undefined && !VAL_SUBSET_CANDIDATES.includes(canonicalSubsetName(subset.name) as 'val'))
    emit({
      type: 'info',
      message: `dataset: one subset '${subset.name}', evaluated whole (${subset.items.length} images)`,
    });
  const sam2 = checkpointFamily(o.checkpoint) === 'sam2';
  const cacheDir = o.cacheDir ?? defaultEmbeddingCacheDir();
  const model = sam2
    ? await openSam2Model(o.checkpoint, cacheDir, emit)
    : await openModel(o.checkpoint, cacheDir, emit);
  try {
    const skipped: SkippedInput[] = dataset.skipped
      // This subset's problems, and those of a subset that was split (its name is gone).
      .filter((s) => s.subset === undefined || s.subset === subset.name || !(s.subset in dataset.subsets))
      .map((s) => ({ file: s.file, scope: s.scope, message: s.message }));
    for (const s of skipped) emit({ type: 'info', message: `skipped: ${s.message}` });
    const fill = await model.cache.fill(
      subset.items.map((i) => i.imagePath),
      (p) => emit({ type: 'embed-progress', ...p }),
      { skipUnreadable: !(o.strict ?? false) },
    );
    emit({ type: 'embed-done', seconds: fill.seconds, computed: fill.computed, hits: fill.hits, total: fill.total });
    for (const s of fill.skipped) {
      skipped.push({ file: s.imagePath, scope: 'image', message: s.message });
      emit({ type: 'info', message: `skipped: ${s.message}` });
    }
    const items = usableItems('evaluateCheckpoint', subset, fill.skipped);
    const t0 = performance.now();
    // Pixels and clicks on one ORT decoder of the model's family (SAM 2.1: its decoder side, samtune-named)
    const decoder: EvalDecoder =
      model.predictor instanceof SamPredictor
        ? ortEvalDecoder(
            model.predictor.config,
            new Map([...model.checkpoint.weights, ...model.predictor.maskDecoderWeights()]),
          )
        : sam2OrtEvalDecoder(model.predictor.config, sam2PredictorWeights(model.checkpoint.weights));
    let metrics: EvalResult;
    let clicks: ClicksResult | undefined;
    try {
      metrics = await evaluate({
        predictor: model.predictor,
        decoder,
        cache: model.cache,
        targets: new TargetStore(o.seed ?? 0, o.prompt === 'point', o.crowd ?? 'keep'),
        items,
        prompt: { mode: o.prompt ?? 'box', points: o.points ?? 1, jitterFraction: 0, jitterPixels: 0 },
        maxInstances: o.maxInstances ?? 0,
        microBatch: o.microBatch ?? DEFAULT_MICRO_BATCH,
        onProgress: (done, total) => emit({ type: 'eval-progress', phase: 'val', epoch: 0, done, total }),
      });
      emit({ type: 'eval-done', phase: 'val', epoch: 0, metrics, seconds: (performance.now() - t0) / 1000 });
      if (o.clicks)
        clicks = await evaluateClicks({
          decoder,
          cache: model.cache,
          targets: new TargetStore(o.seed ?? 0, false, o.crowd ?? 'keep'),
          items,
          maxInstances: o.maxInstances ?? 0,
          maxClicks: o.clicks,
          onProgress: (done, total) => emit({ type: 'eval-progress', phase: 'val', epoch: 0, done, total }),
        });
    } finally {
      await decoder.release();
    }
    return {
      ...(clicks ? { clicks } : {}),
      metrics,
      subset: subset.name,
      checkpointPath: model.checkpoint.path,
      checkpointSha256: model.checkpoint.sha256,
      backend: runtime.detail,
      skipped,
    };
  } finally {
    model.dispose();
  }
}
