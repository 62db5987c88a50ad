/**
 * The built-in `TrainCallback`s of a run, in the order `runTraining` calls them: a non-finite loss
 * guard and interrupt polling after each step; after each epoch, early stopping, the epoch limit,
 * the checkpoints (best / last) and the run state + `epoch-end` report. A new behaviour around the
 * phases is one more callback here.
 */
import { checkFiniteWeights } from '@samtune/sam-model';
import type { TrainConfig } from './config.js';
import { EarlyStopping } from './early-stopping.js';
import type { Fit, TrainCallback } from './fit.js';
import { NonFiniteLossError } from './interrupt.js';

/** The run's early stopping on validation F1 (config `early-stopping.*`). */
export function earlyStopper(config: TrainConfig): EarlyStopping {
  return new EarlyStopping({
    mode: 'max',
    minDelta: config.earlyStopping.minDelta,
    patience: config.earlyStopping.patience,
    warmupEpochs: config.earlyStopping.warmupEpochs,
  });
}

/** Throws `NonFiniteLossError` on a step whose loss is not finite (nothing is saved). */
export const finiteLossGuard: TrainCallback = {
  onStep(fit, e) {
    if (Number.isFinite(e.loss)) return;
    const lr = fit.run.config.optimizer.lr;
    throw new NonFiniteLossError(
      `runTraining: the training loss is ${e.loss} at epoch ${e.epoch} step ${e.step}/${e.steps}; stopped without saving (optimizer.lr = ${lr}: lower it, or check the data and the checkpoint for non-finite values). ${fit.run.out} keeps the checkpoints of epoch ${fit.epochsDone}`,
    );
  },
};

/** Stops at a step boundary when the caller asks (`RunTrainingOptions.stop`). */
export const interruptPolling: TrainCallback = {
  onStep(fit, e) {
    fit.run.stopAt(`epoch ${e.epoch} step ${e.step}/${e.steps}`);
  },
};

/** Early stopping on validation F1 (when enabled): sets `fit.stop`; keeps its state in the run state. */
export function earlyStopping(fit: Fit): TrainCallback {
  const stopper = earlyStopper(fit.run.config);
  if (fit.run.resumed) stopper.load(fit.run.resumed.meta.earlyStopping);
  return {
    onEpochEnd(f, record) {
      if (!f.run.config.earlyStopping.enabled) return;
      const decision = stopper.update(record.val.f1);
      f.meta = { ...f.m, earlyStopping: stopper.state() };
      if (decision.shouldStop)
        f.stop = { reason: `early stopping (${decision.reason ?? 'patience'}) at epoch ${record.epoch}`, early: true };
    },
  };
}

/** Ends the run after `training.epochs` epochs. */
export const epochLimit: TrainCallback = {
  onEpochEnd(fit, record) {
    const epochs = fit.run.config.training.epochs;
    if (!fit.stop && record.epoch === epochs) fit.stop = { reason: `reached ${epochs} epochs`, early: false };
  },
};

/** `best.safetensors` when the epoch is the best so far, `last.safetensors` always (finite weights only). */
export const checkpoints: TrainCallback = {
  onEpochEnd(fit, record) {
    const decoder = fit.state.weights();
    checkFiniteWeights(decoder, `runTraining(epoch ${record.epoch}): the trained mask decoder, not saved`);
    const { trainingArgs } = fit.base;
    const metrics = { epoch: record.epoch, val: record.val, zeroShot: fit.m.zeroShot, trainLoss: record.trainLoss };
    const info = { epoch: record.epoch, trainingArgs, metrics };
    if (record.best) fit.writeCheckpoint(fit.run.files.best, decoder, { kind: 'best', ...info });
    fit.writeCheckpoint(fit.run.files.last, decoder, { kind: 'last', ...info });
  },
};

/** The run state after the epoch (history, best epoch, finished), then the `epoch-end` event. */
export const runStateAndReport: TrainCallback = {
  onEpochEnd(fit, record) {
    fit.meta = {
      ...fit.m,
      epochsDone: record.epoch,
      history: [...fit.m.history, record],
      bestEpoch: record.best ? record.epoch : fit.m.bestEpoch,
      finished: fit.stop !== null,
      stopReason: fit.stop?.reason ?? null,
    };
    fit.save();
    fit.run.emit({ type: 'epoch-end', record, stop: fit.stop?.early ?? false, reason: fit.stop?.reason ?? null });
  },
};

/** The callbacks of `runTraining`, in order. */
export function defaultCallbacks(fit: Fit): TrainCallback[] {
  return [finiteLossGuard, interruptPolling, earlyStopping(fit), epochLimit, checkpoints, runStateAndReport];
}
