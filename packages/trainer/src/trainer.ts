/**
 * A complete training run into `config.out` (see `checkpoints.ts` for the files):
 * backend → dataset → checkpoint → embedding pass (cache) → targets → zero-shot validation →
 * epochs (train, validate, early stopping, best/last checkpoints, state) → report.
 * With `resume`, a run directory holding a state continues after its last finished epoch; the
 * per-epoch generators derive from (seed, epoch), so the continued run is the run that was killed.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  saveRunState,
  loadRunState,
  writeModelCheckpoint,
  RUN_STATE_VERSION,
  type EpochRecord,
  type RunStateMeta,
} from './checkpoints.js';
import { validateTrainConfig, type TrainConfig } from './config.js';
import { EarlyStopping } from './early-stopping.js';
import {
  evaluate,
  type EvalResult,
  TargetStore,
  openDataset,
  openModel,
  pickSubset,
  setupRuntime,
} from '@samtune/evaluation';
import type { TrainEvent, TrainEventHandler, TrainResult } from './events.js';
import { Adam } from './optimizer.js';
import { writeRunReport } from './report.js';
import { RunLog } from './run-log.js';
import { stepsPerEpoch, trainEpoch } from './train-epoch.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when the run directory does not allow the requested start (exists without --resume, other checkpoint). */
export class RunDirectoryError extends SamtuneError {
  readonly code: string = 'run-directory';
  readonly kind: ErrorKind = 'conflict';
  override readonly name = 'RunDirectoryError';
}

export interface RunTrainingOptions {
  /** Continue the run in `config.out` (its stored config wins). */
  readonly resume?: boolean;
  readonly onEvent?: TrainEventHandler;
}

/** Paths of a run directory's files. */
export function runFiles(out: string): TrainResult['files'] {
  return {
    best: join(out, 'best.safetensors'),
    last: join(out, 'last.safetensors'),
    state: join(out, 'state.safetensors'),
    log: join(out, 'train.jsonl'),
    report: join(out, 'report.md'),
    curves: join(out, 'curves.svg'),
  };
}

/** Runs (or resumes) training; resolves with the result once the report is written. */
export async function runTraining(input: TrainConfig, options: RunTrainingOptions = {}): Promise<TrainResult> {
  const out = resolve(input.out);
  const files = runFiles(out);
  mkdirSync(out, { recursive: true });
  // Temp files of atomic writes cut short by a kill (never read: the real files are renamed into place).
  for (const f of readdirSync(out)) if (/^\..+\.tmp$/.test(f)) rmSync(join(out, f), { force: true });
  let resumed: ReturnType<typeof loadRunState> | undefined;
  if (existsSync(files.state)) {
    if (!options.resume)
      throw new RunDirectoryError(
        `runTraining(config.out): ${out} already holds a run (state.safetensors); pass --resume to continue it or choose another --out`,
      );
    resumed = loadRunState(files.state);
  }
  const config = validateTrainConfig(resumed ? { ...resumed.meta.config, out } : { ...input, out });
  const log = new RunLog(files.log);
  const emit = (e: TrainEvent): void => {
    log.write(e);
    options.onEvent?.(e);
  };
  if (resumed) emit({ type: 'resume', epochsDone: resumed.meta.epochsDone });

  const runtime = await setupRuntime(config.runtime.backend, config.runtime.ortKernels);
  emit({ type: 'backend', backend: runtime.backend, ortKernels: runtime.ortKernels, detail: runtime.detail });
  const dataset = await openDataset(config.data.root, config.data.format, config.data.strict);
  const train = pickSubset(dataset, config.data.train.subset, [config.data.train.subset]);
  const val = pickSubset(dataset, config.data.val.subset);
  emit({
    type: 'dataset',
    format: dataset.format,
    train: train.items.length,
    val: val.items.length,
    trainSubset: train.name,
    valSubset: val.name,
    skipped: dataset.skipped.length,
    problems: dataset.skipped.map((p) => p.message),
  });

  const model = await openModel(config.checkpoint, config.runtime.cacheDir, emit);
  const { checkpoint, predictor, cache } = model;
  try {
    if (resumed && resumed.meta.baseCheckpoint.sha256 !== checkpoint.sha256) {
      throw new RunDirectoryError(
        `runTraining(--resume): ${out} was started from checkpoint sha256 ${resumed.meta.baseCheckpoint.sha256}, '${config.checkpoint}' now has ${checkpoint.sha256}`,
      );
    }
    // First pass: every image embedded once (or found in the cache).
    const all = [...train.items, ...val.items];
    const fill = await cache.fill(
      all.map((i) => i.imagePath),
      (p) => emit({ type: 'embed-progress', ...p }),
    );
    emit({ type: 'embed-done', seconds: fill.seconds, computed: fill.computed, hits: fill.hits, total: fill.total });
    const targets = new TargetStore(config.training.seed, config.prompt.mode === 'point');
    for (const [i, item] of all.entries()) {
      await targets.get(item);
      emit({ type: 'targets-progress', done: i + 1, total: all.length });
    }

    const optimizer = new Adam(Object.fromEntries(predictor.trainableVariables()), config.optimizer);
    const stopper = new EarlyStopping({
      mode: 'max',
      minDelta: config.earlyStopping.minDelta,
      patience: config.earlyStopping.patience,
      warmupEpochs: config.earlyStopping.warmupEpochs,
    });
    let meta: RunStateMeta = {
      version: RUN_STATE_VERSION,
      config,
      epochsDone: 0,
      history: [],
      zeroShot: null,
      bestEpoch: null,
      earlyStopping: stopper.state(),
      adamStep: 0,
      adamSteps: {},
      finished: false,
      stopReason: null,
      baseCheckpoint: { path: checkpoint.path, sha256: checkpoint.sha256 },
      embeddingPass: fill.computed > 0 ? { seconds: fill.seconds, computed: fill.computed, hits: fill.hits } : null,
      backend: runtime.detail,
    };
    if (resumed) {
      predictor.setMaskDecoderWeights(resumed.decoder);
      optimizer.load(resumed.adam);
      stopper.load(resumed.meta.earlyStopping);
      meta = { ...resumed.meta, config, embeddingPass: resumed.meta.embeddingPass ?? meta.embeddingPass };
    }
    const save = (): void => saveRunState(files.state, meta, predictor.maskDecoderWeights(), optimizer.state());
    const validate = async (
      phase: 'zero-shot' | 'val',
      epoch: number,
    ): Promise<{ metrics: EvalResult; seconds: number }> => {
      const t0 = performance.now();
      const metrics = await evaluate({
        predictor,
        cache,
        targets,
        items: val.items,
        prompt: config.prompt,
        maxInstances: config.data.val.maxInstances,
        microBatch: config.training.microBatch,
        onProgress: (done, total) => emit({ type: 'eval-progress', phase, epoch, done, total }),
      });
      const seconds = (performance.now() - t0) / 1000;
      emit({ type: 'eval-done', phase, epoch, metrics, seconds });
      return { metrics, seconds };
    };
    if (!meta.zeroShot) {
      meta = { ...meta, zeroShot: (await validate('zero-shot', 0)).metrics };
      save();
    }
    const trainingArgs = { ...config, baseCheckpoint: meta.baseCheckpoint };
    const steps = stepsPerEpoch(train.items.length, config.data.train.batchSize);
    for (let epoch = meta.epochsDone + 1; !meta.finished && epoch <= config.training.epochs; epoch++) {
      emit({ type: 'epoch-start', epoch, epochs: config.training.epochs, steps });
      const t0 = performance.now();
      const totals = await trainEpoch({
        config,
        predictor,
        optimizer,
        cache,
        targets,
        items: train.items,
        epoch,
        onEvent: emit,
      });
      const trainSeconds = (performance.now() - t0) / 1000;
      const { metrics, seconds: valSeconds } = await validate('val', epoch);
      const decision = config.earlyStopping.enabled ? stopper.update(metrics.f1) : undefined;
      const bestF1 =
        meta.bestEpoch === null
          ? Number.NEGATIVE_INFINITY
          : (meta.history.find((h) => h.epoch === meta.bestEpoch)?.val.f1 ?? Number.NEGATIVE_INFINITY);
      const isBest = metrics.f1 > bestF1;
      const record: EpochRecord = {
        epoch,
        trainLoss: totals.loss,
        trainFocal: totals.focal,
        trainDice: totals.dice,
        trainIou: totals.iou,
        steps: totals.steps,
        prompts: totals.prompts,
        val: metrics,
        trainSeconds,
        valSeconds,
        best: isBest,
      };
      const decoder = predictor.maskDecoderWeights();
      const metricsMeta = { epoch, val: metrics, zeroShot: meta.zeroShot, trainLoss: totals.loss };
      if (isBest)
        writeModelCheckpoint(files.best, checkpoint.weights, decoder, checkpoint.config, {
          kind: 'best',
          epoch,
          baseSha256: checkpoint.sha256,
          trainingArgs,
          metrics: metricsMeta,
        });
      writeModelCheckpoint(files.last, checkpoint.weights, decoder, checkpoint.config, {
        kind: 'last',
        epoch,
        baseSha256: checkpoint.sha256,
        trainingArgs,
        metrics: metricsMeta,
      });
      const stop = decision?.shouldStop ?? false;
      const reason = stop
        ? `early stopping (${decision?.reason ?? 'patience'}) at epoch ${epoch}`
        : epoch === config.training.epochs
          ? `reached ${config.training.epochs} epochs`
          : null;
      meta = {
        ...meta,
        epochsDone: epoch,
        history: [...meta.history, record],
        bestEpoch: isBest ? epoch : meta.bestEpoch,
        earlyStopping: stopper.state(),
        finished: reason !== null,
        stopReason: reason,
      };
      save();
      emit({ type: 'epoch-end', record, stop, reason });
    }
    if (!meta.finished) {
      meta = { ...meta, finished: true, stopReason: meta.stopReason ?? `reached ${config.training.epochs} epochs` };
      save();
    }
    const bestRecord = meta.history.find((h) => h.epoch === meta.bestEpoch);
    const result: TrainResult = {
      out,
      epochs: meta.epochsDone,
      bestEpoch: meta.bestEpoch,
      stopReason: meta.stopReason ?? '',
      zeroShot: meta.zeroShot,
      best: bestRecord?.val ?? null,
      history: meta.history,
      files,
    };
    writeRunReport(files, meta);
    writeFileSync(
      join(out, 'metrics.json'),
      `${JSON.stringify({ zeroShot: meta.zeroShot, best: result.best, bestEpoch: meta.bestEpoch, epochs: meta.epochsDone, stopReason: meta.stopReason, embeddingPass: meta.embeddingPass, backend: meta.backend, history: meta.history }, null, 2)}\n`,
    );
    emit({ type: 'done', result });
    return result;
  } finally {
    model.dispose();
  }
}
