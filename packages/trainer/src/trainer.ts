/**
 * A complete training run into `config.out` (see `checkpoints.ts` for the files):
 * backend → dataset → checkpoint → embedding pass (cache) → targets → zero-shot validation →
 * epochs (train, validate, early stopping, best/last checkpoints, state) → report.
 * With `resume`, a run directory holding a state continues after its last finished epoch; the
 * per-epoch generators derive from (seed, epoch), so the continued run is the run that was killed.
 */
import { existsSync, writeFileSync } from 'node:fs';
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
import { loadDatasetPlugins } from '@samtune/datasets';
import { EarlyStopping } from './early-stopping.js';
import {
  evaluate,
  type EvalResult,
  TargetStore,
  openSplitDataset,
  openModel,
  pickSubset,
  usableItems,
  setupRuntime,
  backendEvent,
} from '@samtune/evaluation';
import type { TrainEvent, TrainEventHandler, TrainResult } from './events.js';
import { Adam } from './optimizer.js';
import { writeRunReport } from './report.js';
import { RunLog } from './run-log.js';
import { writeResultsCsv, writeRunConfig } from './run-files.js';
import { prepareRunFolder, resumedConfig, RunDirectoryError, storedConfig } from './run-folder.js';
import { stepsPerEpoch, trainEpoch } from './train-epoch.js';
import { checkUsableInstances, crowdCount, pickValSubset } from './usable-data.js';
import { checkFiniteWeights } from '@samtune/sam-model';
import { NonFiniteLossError, StopRequested, TrainingInterruptedError, type StopSignal } from './interrupt.js';

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

/** Runs (or resumes) training; resolves with the result once the report is written. */
export async function runTraining(input: TrainConfig, options: RunTrainingOptions = {}): Promise<TrainResult> {
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

  const runtime = await setupRuntime(config.runtime.backend, config.runtime.ortKernels);
  emit(backendEvent(runtime));
  await loadDatasetPlugins(config.data.plugins);
  const { dataset, split } = await openSplitDataset(
    config.data.root,
    config.data.format,
    { valFraction: config.data.valFraction, seed: config.training.seed },
    { strict: config.data.strict, ...(config.data.images ? { images: config.data.images } : {}) },
  );
  const trainSubset = pickSubset(dataset, config.data.train.subset, [config.data.train.subset]);
  const valSubset = pickValSubset(dataset, config.data.val.subset, split);
  let train = trainSubset;
  let val = valSubset;
  emit({
    type: 'dataset',
    format: dataset.format,
    train: train.items.length,
    val: val.items.length,
    trainSubset: train.name,
    valSubset: val.name,
    skipped: dataset.skipped.length,
    problems: dataset.skipped.map((p) => p.message),
    ...(split ? { split } : {}),
    crowd: { train: crowdCount(train.items), val: crowdCount(val.items), policy: config.data.crowd },
  });

  const stopAt = (where: string): void => {
    const signal = options.stop?.();
    if (signal) throw new StopRequested(signal, where);
  };
  const model = await openModel(config.checkpoint, config.runtime.cacheDir, emit);
  const { checkpoint, predictor, cache } = model;
  // The complete checkpoint the trained decoder completes: a fine-tuned --checkpoint's own base (a
  // base is followed one level only, see @samtune/sam-model fine-tuned.ts).
  const baseRef = checkpoint.base ?? { path: checkpoint.path, sha256: checkpoint.sha256, source: config.checkpoint };
  let epochsDone = resumed?.meta.epochsDone ?? 0;
  try {
    if (resumed && resumed.meta.baseCheckpoint.sha256 !== checkpoint.sha256) {
      throw new RunDirectoryError(
        `runTraining(--resume): ${out} was started from checkpoint sha256 ${resumed.meta.baseCheckpoint.sha256}, '${config.checkpoint}' now has ${checkpoint.sha256}`,
      );
    }
    // First pass: every image embedded once (or found in the cache).
    const fill = await cache.fill(
      [...train.items, ...val.items].map((i) => i.imagePath),
      (p) => {
        emit({ type: 'embed-progress', ...p });
        stopAt(`the embedding pass (${p.done}/${p.total} images)`);
      },
      { skipUnreadable: !config.data.strict },
    );
    await cache.releaseEncoder(); // every image is cached now: free the encoder session's memory
    // Unreadable images (truncated, corrupt) are reported with their file and left out (--strict: thrown above).
    for (const s of fill.skipped) emit({ type: 'info', message: `skipped: ${s.message}` });
    // A subset whose every image was skipped stops the run here, saying which images and why.
    train = { ...trainSubset, items: usableItems('runTraining', trainSubset, fill.skipped) };
    val = { ...valSubset, items: usableItems('runTraining', valSubset, fill.skipped) };
    const all = [...train.items, ...val.items];
    emit({ type: 'embed-done', seconds: fill.seconds, computed: fill.computed, hits: fill.hits, total: fill.total });
    const targets = new TargetStore(config.training.seed, config.prompt.mode === 'point', config.data.crowd);
    for (const [i, item] of all.entries()) {
      await targets.get(item);
      emit({ type: 'targets-progress', done: i + 1, total: all.length });
    }
    await checkUsableInstances(targets, { train, val }, config.data.crowd);

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
    const save = (): void => {
      saveRunState(
        files.state,
        { ...meta, config: storedConfig(config) },
        predictor.maskDecoderWeights(),
        optimizer.state(),
      );
      writeResultsCsv(files.results, meta.history, config.optimizer.lr);
    };
    const validate = async (
      phase: 'zero-shot' | 'val',
      epoch: number,
    ): Promise<{ metrics: EvalResult; seconds: number }> => {
      const t0 = performance.now();
      const metrics = await evaluate({
        predictor,
        weights: checkpoint.weights, // decode on the ORT engine with the current decoder weights
        cache,
        targets,
        items: val.items,
        prompt: config.prompt,
        maxInstances: config.data.val.maxInstances,
        microBatch: config.training.microBatch,
        onProgress: (done, total) => {
          emit({ type: 'eval-progress', phase, epoch, done, total });
          stopAt(`${phase} validation after epoch ${epoch} (${done}/${total} images)`);
        },
      });
      const seconds = (performance.now() - t0) / 1000;
      emit({ type: 'eval-done', phase, epoch, metrics, seconds });
      return { metrics, seconds };
    };
    if (!meta.zeroShot) {
      meta = { ...meta, zeroShot: (await validate('zero-shot', 0)).metrics };
      save();
    }
    const trainingArgs = { ...storedConfig(config), baseCheckpoint: meta.baseCheckpoint };
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
        onEvent: (e) => {
          emit(e);
          if (e.type !== 'step') return;
          if (!Number.isFinite(e.loss))
            throw new NonFiniteLossError(
              `runTraining: the training loss is ${e.loss} at epoch ${e.epoch} step ${e.step}/${e.steps}; stopped without saving (optimizer.lr = ${config.optimizer.lr}: lower it, or check the data and the checkpoint for non-finite values). ${out} keeps the checkpoints of epoch ${epochsDone}`,
            );
          stopAt(`epoch ${e.epoch} step ${e.step}/${e.steps}`);
        },
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
      checkFiniteWeights(decoder, `runTraining(epoch ${epoch}): the trained mask decoder, not saved`);
      const metricsMeta = { epoch, val: metrics, zeroShot: meta.zeroShot, trainLoss: totals.loss };
      if (isBest)
        writeModelCheckpoint(files.best, baseRef, decoder, checkpoint.config, {
          kind: 'best',
          epoch,
          trainingArgs,
          metrics: metricsMeta,
        });
      writeModelCheckpoint(files.last, baseRef, decoder, checkpoint.config, {
        kind: 'last',
        epoch,
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
      epochsDone = epoch;
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
      files.metrics,
      `${JSON.stringify({ zeroShot: meta.zeroShot, best: result.best, bestEpoch: meta.bestEpoch, epochs: meta.epochsDone, stopReason: meta.stopReason, embeddingPass: meta.embeddingPass, backend: meta.backend, history: meta.history }, null, 2)}\n`,
    );
    emit({ type: 'done', result });
    return result;
  } catch (err) {
    if (!(err instanceof StopRequested)) throw err;
    const decoder = predictor.maskDecoderWeights();
    checkFiniteWeights(decoder, `runTraining(${err.signal}): the mask decoder at ${err.where}, not saved`);
    writeModelCheckpoint(files.last, baseRef, decoder, checkpoint.config, {
      kind: 'last',
      epoch: epochsDone,
      trainingArgs: { ...storedConfig(config), baseCheckpoint: { path: checkpoint.path, sha256: checkpoint.sha256 } },
      metrics: { epoch: epochsDone, interrupted: { signal: err.signal, at: err.where } },
    });
    const message = `runTraining: stopped by ${err.signal} at ${err.where}; wrote ${files.last} (current weights); ${files.state} holds ${epochsDone} finished epoch(s): --resume continues with epoch ${epochsDone + 1}`;
    emit({ type: 'info', message });
    throw new TrainingInterruptedError(message, err.signal);
  } finally {
    model.dispose();
  }
}
