/**
 * What `train` and `demo` share: running `runTraining` (in a worker thread, or on this one) with the
 * CLI's rendering of its events, and the signals: SIGTERM/SIGINT ask the run to stop at its next
 * step boundary (it writes `last` and rejects with `TrainingInterruptedError`); a second signal exits
 * at once. The dataset plugins loaded for the command go into the config, so the worker loads them.
 */
import {
  exitCodeForSignal,
  runTraining,
  startTrainingWorker,
  StopFlag,
  type TrainConfig,
  type TrainResult,
} from '@samtune/trainer';
import type { CliIO } from './command.js';
import { trainEventRenderer } from './render.js';

/** A run to start: the resolved config, `--resume`, and whether to train in a worker thread. */
export interface TrainArgs {
  readonly config: TrainConfig;
  readonly resume: boolean;
  /** `--exist-ok`: write into a non-empty folder that is not a samtune run folder. */
  readonly existOk?: boolean;
  readonly worker: boolean;
}

/** Runs training with the CLI's rendering (see the module comment); returns the result. */
export async function trainWithProgress(args: TrainArgs, io: CliIO): Promise<TrainResult> {
  const onEvent = trainEventRenderer(io);
  const plugins = [...new Set([...args.config.data.plugins, ...(io.plugins ?? [])])];
  const config: TrainConfig = { ...args.config, data: { ...args.config.data, plugins } };
  const flag = new StopFlag();
  const job = args.worker
    ? startTrainingWorker(config, { resume: args.resume, existOk: args.existOk ?? false, onEvent })
    : undefined;
  const onSignal = (signal: 'SIGTERM' | 'SIGINT'): void => {
    if (flag.requested()) process.exit(exitCodeForSignal(signal));
    io.err(`\n${signal}: stopping at the next step boundary and writing last.safetensors (send again to exit now)`);
    flag.request(signal);
    job?.stop(signal);
  };
  const onTerm = (): void => onSignal('SIGTERM');
  const onInt = (): void => onSignal('SIGINT');
  process.on('SIGTERM', onTerm).on('SIGINT', onInt);
  try {
    return await (job?.result ??
      runTraining(config, {
        resume: args.resume,
        existOk: args.existOk ?? false,
        onEvent,
        stop: () => flag.requested(),
      }));
  } finally {
    process.off('SIGTERM', onTerm).off('SIGINT', onInt);
  }
}

/** The machine-readable result of a run (`train --json`, `demo --json`): metrics and the files written. */
export function trainResultJson(r: TrainResult): Record<string, unknown> {
  const metrics = (m: TrainResult['best']) =>
    m && {
      f1: m.f1,
      iou: m.iou,
      dice: m.dice,
      ap: m.ap,
      ap50: m.ap50,
      ap75: m.ap75,
      loss: m.loss,
      images: m.images,
      instances: m.instances,
    };
  return {
    out: r.out,
    epochs: r.epochs,
    bestEpoch: r.bestEpoch,
    stopReason: r.stopReason,
    zeroShot: metrics(r.zeroShot),
    best: metrics(r.best),
    files: r.files,
  };
}
