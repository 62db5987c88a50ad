/**
 * The phases of a training run before its epochs (`trainer.ts`): the run directory (resume or a
 * fresh start, the resolved config, the JSONL log), the data (dataset, split, subsets), the
 * embedding pass (every image in the cache; unreadable ones reported and left out) and the targets.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadDatasetPlugins, type Dataset } from '@samtune/datasets';
import { openDataset, openSplitDataset, pickSubset, usableItems, type EmbeddingCache } from '@samtune/evaluation';
import { TargetStore, type TrainItem } from '@samtune/training-data';
import { loadRunState } from './checkpoints.js';
import { validateTrainConfig, type TrainConfig } from './config.js';
import type { TrainEvent, TrainEventHandler, TrainResult } from './events.js';
import { StopRequested, type StopSignal } from './interrupt.js';
import { RunLog } from './run-log.js';
import { writeRunConfig } from './run-files.js';
import { prepareRunFolder, resumedConfig, RunDirectoryError, storedConfig } from './run-folder.js';
import { checkUsableInstances, crowdCount, pickValSubset } from './usable-data.js';

export { RunDirectoryError };

export interface RunTrainingOptions {
  /** Continue the run in `config.out` (its stored config wins, except `data.plugins`: see `run-folder.ts`). */
  readonly resume?: boolean;
  /** Write into an existing non-empty `config.out` that is not a samtune run folder (`--exist-ok`). */
  readonly existOk?: boolean;
  readonly onEvent?: TrainEventHandler;
  /**
   * Polled at step boundaries (after each optimizer step, validation item and embedded image): a
   * signal stops the run there, writes `last.safetensors` and throws `TrainingInterruptedError`.
   */
  readonly stop?: () => StopSignal | undefined;
}

/** Paths of a run directory's files. */
export function runFiles(out: string): TrainResult['files'] {
  return {
    best: join(out, 'best.safetensors'),
    last: join(out, 'last.safetensors'),
    state: join(out, 'state.safetensors'),
    log: join(out, 'train.jsonl'),
    config: join(out, 'config.yaml'),
    results: join(out, 'results.csv'),
    metrics: join(out, 'metrics.json'),
    report: join(out, 'report.md'),
    curves: join(out, 'curves.svg'),
  };
}

/** An open run directory: its config, files, events and interrupt polling. */
export interface Run {
  readonly out: string;
  readonly files: TrainResult['files'];
  readonly config: TrainConfig;
  /** The state of the run being resumed. */
  readonly resumed?: ReturnType<typeof loadRunState>;
  /** Logs `e` (train.jsonl) and passes it to the caller. */
  readonly emit: (e: TrainEvent) => void;
  /** Throws `StopRequested` at `where` when the caller asks to stop. */
  readonly stopAt: (where: string) => void;
}

/** Phase "open": the run directory, resume or fresh start, the resolved config and log. */
export function openRun(input: TrainConfig, options: RunTrainingOptions): Run {
  const out = resolve(input.out);
  const files = runFiles(out);
  prepareRunFolder(out, options.existOk ?? false);
  let resumed: ReturnType<typeof loadRunState> | undefined;
  if (existsSync(files.state)) {
    if (!options.resume)
      throw new RunDirectoryError(
        `runTraining(config.out): ${out} already holds a run (state.safetensors); pass --resume to continue it or choose another --out`,
      );
    resumed = loadRunState(files.state);
  }
  const config = validateTrainConfig(resumed ? resumedConfig(resumed.meta.config, input, out) : { ...input, out });
  writeRunConfig(files.config, storedConfig(config));
  const log = new RunLog(files.log);
  const emit = (e: TrainEvent): void => {
    log.write(e);
    options.onEvent?.(e);
  };
  if (resumed) emit({ type: 'resume', epochsDone: resumed.meta.epochsDone });
  const stopAt = (where: string): void => {
    const signal = options.stop?.();
    if (signal) throw new StopRequested(signal, where);
  };
  return { out, files, config, emit, stopAt, ...(resumed ? { resumed } : {}) };
}

/** The train and val subsets of a run. */
export interface RunData {
  train: { readonly name: string; readonly items: readonly TrainItem[] };
  val: { readonly name: string; readonly items: readonly TrainItem[] };
}

/**
 * Phase "prepare data": plugins, the dataset (split when it has one subset), the train and val
 * subsets. With `data.val.root` the validation data is that dataset (read like `data.root`, same
 * format rules, strictness and path containment; its `data.val.subset`, or its only subset), and
 * `data.root` is not split: its `data.train.subset`, or its only subset, trains whole.
 */
export async function prepareData(run: Run): Promise<RunData> {
  const { config } = run;
  await loadDatasetPlugins(config.data.plugins);
  const own = config.data.val.root !== '';
  const { dataset, split } = await openSplitDataset(
    config.data.root,
    config.data.format,
    { valFraction: own ? 0 : config.data.valFraction, seed: config.training.seed },
    { strict: config.data.strict, ...(config.data.images ? { images: config.data.images } : {}) },
  );
  const train = pickSubset(dataset, onlySubset(dataset, own) ?? config.data.train.subset, [config.data.train.subset]);
  const valData = own ? await openValDataset(config) : undefined;
  const val = valData
    ? pickSubset(valData, onlySubset(valData, true) ?? config.data.val.subset)
    : pickValSubset(dataset, config.data.val.subset, split);
  const skipped = [...dataset.skipped, ...(valData?.skipped ?? [])];
  run.emit({
    type: 'dataset',
    format: dataset.format,
    train: train.items.length,
    val: val.items.length,
    trainSubset: train.name,
    valSubset: val.name,
    skipped: skipped.length,
    problems: skipped.map((p) => p.message),
    ...(split ? { split } : {}),
    ...(valData ? { valRoot: valData.root } : {}),
    crowd: { train: crowdCount(train.items), val: crowdCount(val.items), policy: config.data.crowd },
  });
  return { train, val };
}

/** The validation dataset of `data.val.root` (`data.val.images` for a COCO .json). */
function openValDataset(config: TrainConfig): Promise<Dataset> {
  const { val } = config.data;
  return openDataset(val.root, config.data.format, config.data.strict, val.images || undefined);
}

/** The name of a dataset's only non-empty subset, when `whole` asks for it and there is exactly one. */
function onlySubset(dataset: Dataset, whole: boolean): string | undefined {
  const names = Object.keys(dataset.subsets).filter((k) => (dataset.subsets[k]?.length ?? 0) > 0);
  return whole && names.length === 1 ? names[0] : undefined;
}

/** What the embedding pass leaves: the readable items, their targets, the pass's counts. */
export interface Embedded {
  readonly targets: TargetStore;
  readonly fill: { readonly seconds: number; readonly computed: number; readonly hits: number };
}

/**
 * Phase "embed": every image embedded once (or found in the cache), then the encoder released;
 * unreadable images are reported with their file and dropped from `data` (--strict: thrown); then
 * every item's targets.
 */
export async function embedData(run: Run, cache: EmbeddingCache, data: RunData): Promise<Embedded> {
  const fill = await cache.fill(
    [...data.train.items, ...data.val.items].map((i) => i.imagePath),
    (p) => {
      run.emit({ type: 'embed-progress', ...p });
      run.stopAt(`the embedding pass (${p.done}/${p.total} images)`);
    },
    { skipUnreadable: !run.config.data.strict },
  );
  await cache.releaseEncoder(); // every image is cached now: free the encoder session's memory
  for (const s of fill.skipped) run.emit({ type: 'info', message: `skipped: ${s.message}` });
  // A subset whose every image was skipped stops the run here, saying which images and why.
  data.train = { ...data.train, items: usableItems('runTraining', data.train, fill.skipped) };
  data.val = { ...data.val, items: usableItems('runTraining', data.val, fill.skipped) };
  run.emit({ type: 'embed-done', seconds: fill.seconds, computed: fill.computed, hits: fill.hits, total: fill.total });
  const { config } = run;
  const resize = cache.family === 'sam2' ? 'stretch' : 'longest-side'; // SAM 2.1's frame: the image stretched
  const targets = new TargetStore(config.training.seed, config.prompt.mode === 'point', config.data.crowd, resize);
  const all = [...data.train.items, ...data.val.items];
  for (const [i, item] of all.entries()) {
    await targets.get(item);
    run.emit({ type: 'targets-progress', done: i + 1, total: all.length });
  }
  await checkUsableInstances(targets, data, config.data.crowd);
  return { targets, fill };
}
