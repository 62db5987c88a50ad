/**
 * `evaluateCheckpoint`: the metrics of a checkpoint (an official one: zero-shot, or a run's
 * `best.safetensors`) on a dataset subset, with the same prompts and metrics as training's
 * validation (see `evaluate.ts`). Embeddings come from (and go to) the embedding cache.
 */
import { defaultEmbeddingCacheDir } from './embedding-cache.js';
import { DEFAULT_MICRO_BATCH, type PromptModeOption } from './prompt-batch.js';
import { evaluate, type EvalResult } from './evaluate.js';
import type { EvalEventHandler } from './events.js';
import { TargetStore } from './samples.js';
import { openDataset, openModel, pickSubset, setupRuntime, VAL_SUBSET_CANDIDATES } from './setup.js';

export interface EvaluateCheckpointOptions {
  /** Registry name or path (`.pth`, `.pt`, `.safetensors`, e.g. `runs/x/best.safetensors`). */
  readonly checkpoint: string;
  readonly dataRoot: string;
  /** Default `auto`. */
  readonly format?: string;
  /** Subset name; `val` (default) tries `val`, `valid`, `validation`. */
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
  readonly onEvent?: EvalEventHandler;
}

/** Metrics plus where they came from. */
export interface CheckpointEvaluation {
  readonly metrics: EvalResult;
  readonly subset: string;
  readonly checkpointPath: string;
  readonly checkpointSha256: string;
  readonly backend: string;
}

/** Evaluates a checkpoint on a subset (see the module comment). */
export async function evaluateCheckpoint(o: EvaluateCheckpointOptions): Promise<CheckpointEvaluation> {
  const emit = o.onEvent ?? ((): void => {});
  const runtime = await setupRuntime(o.backend ?? '', o.ortKernels ?? true);
  emit({ type: 'backend', backend: runtime.backend, ortKernels: runtime.ortKernels, detail: runtime.detail });
  const dataset = await openDataset(o.dataRoot, o.format ?? 'auto');
  const wanted = o.subset ?? 'val';
  const subset =
    wanted === 'val'
      ? pickSubset(
          dataset,
          'auto',
          VAL_SUBSET_CANDIDATES.filter((s) => s !== 'test'),
        )
      : pickSubset(dataset, wanted, [wanted]);
  const model = await openModel(o.checkpoint, o.cacheDir ?? defaultEmbeddingCacheDir(), emit);
  try {
    const fill = await model.cache.fill(
      subset.items.map((i) => i.imagePath),
      (p) => emit({ type: 'embed-progress', ...p }),
    );
    emit({ type: 'embed-done', seconds: fill.seconds, computed: fill.computed, hits: fill.hits, total: fill.total });
    const t0 = performance.now();
    const metrics = await evaluate({
      predictor: model.predictor,
      cache: model.cache,
      targets: new TargetStore(o.seed ?? 0, o.prompt === 'point'),
      items: subset.items,
      prompt: { mode: o.prompt ?? 'box', points: o.points ?? 1, jitterFraction: 0, jitterPixels: 0 },
      maxInstances: o.maxInstances ?? 0,
      microBatch: o.microBatch ?? DEFAULT_MICRO_BATCH,
      onProgress: (done, total) => emit({ type: 'eval-progress', phase: 'val', epoch: 0, done, total }),
    });
    emit({ type: 'eval-done', phase: 'val', epoch: 0, metrics, seconds: (performance.now() - t0) / 1000 });
    return {
      metrics,
      subset: subset.name,
      checkpointPath: model.checkpoint.path,
      checkpointSha256: model.checkpoint.sha256,
      backend: runtime.detail,
    };
  } finally {
    model.dispose();
  }
}
