/**
 * Training in a worker thread (`node:worker_threads`): the decoder steps are long synchronous
 * computations, so running them off the main thread keeps the caller's event loop (CLI progress
 * bars, an HTTP server) responsive. Events arrive through `onEvent` exactly as with `runTraining`.
 *
 * The worker runs `train-worker.js` beside this file, or from sources `train-worker.ts` through tsx
 * (`spawnWorker` of `@samtune/worker-thread`, the one worker-spawn rule of samtune).
 */
import { spawnWorker, workerEntryFile } from '@samtune/worker-thread';
import type { TrainConfig } from './config.js';
import type { TrainEvent, TrainEventHandler, TrainResult } from './events.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import { StopFlag, TrainingInterruptedError, type StopSignal } from './interrupt.js';

/** Messages from the worker. */
export type WorkerMessage =
  | { readonly kind: 'event'; readonly event: TrainEvent }
  | { readonly kind: 'result'; readonly result: TrainResult }
  | {
      readonly kind: 'error';
      readonly name: string;
      readonly message: string;
      readonly stack: string;
      /** Set for a `TrainingInterruptedError`. */
      readonly signal?: StopSignal;
    };

/** An error thrown inside the worker, re-created on the caller's side with the original name. */
export class TrainWorkerError extends SamtuneError {
  readonly code: string = 'train-worker';
  readonly kind: ErrorKind = 'internal';
  override readonly name: string;
  constructor(
    name: string,
    message: string,
    readonly workerStack: string,
  ) {
    super(message);
    this.name = name;
  }
}

/** The worker entry module next to this one (`train-worker.js`; its `.ts` from sources). */
const TRAIN_WORKER_ENTRY = new URL('./train-worker.js', import.meta.url);

/** The worker entry file next to this module (`.js` when built, `.ts` from sources). */
export function trainWorkerPath(): string {
  return workerEntryFile(TRAIN_WORKER_ENTRY).file;
}

export interface WorkerTrainingOptions {
  readonly resume?: boolean;
  readonly existOk?: boolean;
  readonly onEvent?: TrainEventHandler;
  /**
   * Nice value (0..19) of the training thread and of the threads it starts (onnxruntime's intra-op
   * pool inherits it), so that work of the rest of the machine (a labelling server's clicks, the
   * browser that decodes them) gets the CPU first. Linux only, where the nice value is per thread;
   * elsewhere it would lower the whole process, so it is ignored. Default 0 (unchanged).
   */
  readonly niceness?: number;
}

/** Thrown when `niceness` is not an integer in 0..19. */
export class TrainWorkerOptionError extends SamtuneError {
  readonly code: string = 'train-worker-option';
  readonly kind: ErrorKind = 'input';
}

/** A training run in a worker thread; `cancel()` terminates it (the run directory stays resumable). */
export interface TrainingJob {
  readonly result: Promise<TrainResult>;
  cancel(): Promise<void>;
  /**
   * Asks the run to stop at its next step boundary: it writes `last.safetensors` and `result`
   * rejects with `TrainingInterruptedError` carrying `signal`.
   */
  stop(signal: StopSignal): void;
}

/** Starts `runTraining(config)` in a worker thread. */
export function startTrainingWorker(config: TrainConfig, options: WorkerTrainingOptions = {}): TrainingJob {
  const niceness = options.niceness ?? 0;
  if (!Number.isInteger(niceness) || niceness < 0 || niceness > 19) {
    throw new TrainWorkerOptionError(
      `startTrainingWorker(options.niceness): expected an integer in 0..19, got ${String(niceness)}`,
    );
  }
  const flag = new StopFlag();
  const worker = spawnWorker(TRAIN_WORKER_ENTRY, {
    config,
    resume: options.resume ?? false,
    existOk: options.existOk ?? false,
    stop: flag.buffer,
    niceness: process.platform === 'linux' ? niceness : 0,
  });
  let settled = false;
  const result = new Promise<TrainResult>((resolvePromise, reject) => {
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'event') options.onEvent?.(m.event);
      else if (m.kind === 'result') {
        settled = true;
        resolvePromise(m.result);
        void worker.terminate();
      } else {
        settled = true;
        reject(
          m.signal !== undefined
            ? new TrainingInterruptedError(m.message, m.signal)
            : new TrainWorkerError(m.name, m.message, m.stack),
        );
        void worker.terminate();
      }
    });
    worker.on('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.on('exit', (code) => {
      if (!settled)
        reject(
          new TrainWorkerError(
            'TrainWorkerExit',
            `startTrainingWorker(): the training worker exited with code ${code} before finishing`,
            '',
          ),
        );
    });
  });
  return {
    result,
    cancel: async () => {
      await worker.terminate();
    },
    stop: (signal) => flag.request(signal),
  };
}

/** `runTraining` in a worker thread; resolves with its result. */
export function runTrainingInWorker(config: TrainConfig, options: WorkerTrainingOptions = {}): Promise<TrainResult> {
  return startTrainingWorker(config, options).result;
}
