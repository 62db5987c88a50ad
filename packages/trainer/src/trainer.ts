/**
 * A complete training run into `config.out` (see `checkpoints.ts` for the files), as a short loop
 * over named phases: open (run directory, resume) → prepare data → embed (cache, targets) → start
 * (state of record, engine) → zero-shot validation → per epoch: train epoch + validate, then the
 * callbacks (early stopping, epoch limit, checkpoints, run state and report) → finish (report).
 * The phases live in `run-setup.ts` and `fit.ts`, the callbacks in `fit-callbacks.ts`.
 * With `resume`, a run directory holding a state continues after its last finished epoch; the
 * per-epoch generators derive from (seed, epoch), so the continued run is the run that was killed.
 */
import { backendEvent, openModel, openSam2Model, setupRuntime } from '@samtune/evaluation';
import { checkpointFamily } from '@samtune/sam-model';
import type { TrainConfig } from './config.js';
import type { TrainResult } from './events.js';
import { defaultCallbacks } from './fit-callbacks.js';
import { Fit, epochPhase, finishRun, interruptedRun, validatePhase, type TrainCallback } from './fit.js';
import { StopRequested } from './interrupt.js';
import { embedData, openRun, prepareData, type RunTrainingOptions } from './run-setup.js';
import { stepsPerEpoch } from './train-epoch.js';

export { RunDirectoryError, runFiles, type RunTrainingOptions } from './run-setup.js';

/** `RunTrainingOptions` plus the callbacks (default `defaultCallbacks`). */
export interface FitOptions extends RunTrainingOptions {
  readonly callbacks?: (fit: Fit) => TrainCallback[];
}

/** Runs (or resumes) training; resolves with the result once the report is written. */
export async function runTraining(input: TrainConfig, options: FitOptions = {}): Promise<TrainResult> {
  const run = openRun(input, options);
  const { config } = run;
  const runtime = await setupRuntime(config.runtime.backend, config.runtime.ortKernels);
  run.emit(backendEvent(runtime));
  const data = await prepareData(run);
  const open = checkpointFamily(config.checkpoint) === 'sam2' ? openSam2Model : openModel;
  const model = await open(config.checkpoint, config.runtime.cacheDir, run.emit);
  let fit: Fit | undefined;
  try {
    fit = new Fit(run, model, data);
    const { targets, fill } = await embedData(run, model.cache, data);
    fit.startEngine(targets, fill, runtime.detail);
    const callbacks = (options.callbacks ?? defaultCallbacks)(fit);
    if (!fit.m.zeroShot) {
      fit.meta = { ...fit.m, zeroShot: (await validatePhase(fit, 'zero-shot', 0)).metrics };
      fit.save();
    }
    for (let epoch = fit.m.epochsDone + 1; !fit.m.finished && epoch <= config.training.epochs; epoch++) {
      run.emit({
        type: 'epoch-start',
        epoch,
        epochs: config.training.epochs,
        steps: stepsPerEpoch(data.train.items.length, config.data.train.batchSize),
      });
      const record = await epochPhase(fit, epoch, callbacks);
      for (const cb of callbacks) cb.onEpochEnd?.(fit, record);
    }
    return finishRun(fit);
  } catch (err) {
    if (fit && err instanceof StopRequested) throw interruptedRun(fit, err);
    throw err;
  } finally {
    fit?.engine?.dispose();
    model.dispose();
  }
}
