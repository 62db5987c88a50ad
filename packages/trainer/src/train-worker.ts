/**
 * Worker-thread entry of `runTrainingInWorker`: runs `runTraining` with the `workerData` it was
 * given and posts every event, then the result (or the error), to the parent.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { TrainConfig } from './config.js';
import { runTraining } from './trainer.js';
import type { WorkerMessage } from './worker.js';
import { StopFlag, TrainingInterruptedError } from './interrupt.js';

interface WorkerInput {
  readonly config: TrainConfig;
  readonly resume: boolean;
  readonly existOk: boolean;
  /** The `StopFlag` shared with the parent. */
  readonly stop: SharedArrayBuffer;
  /** Nice value of this thread (Linux: per thread; the threads it starts inherit it); 0: unchanged. */
  readonly niceness: number;
}

const port = parentPort;
if (port) {
  const { config, resume, existOk, stop, niceness } = workerData as WorkerInput;
  if (niceness > 0) setPriority(0, niceness); // pid 0 on Linux: this thread only
  const flag = new StopFlag(stop);
  const post = (m: WorkerMessage): void => port.postMessage(m);
  try {
    const result = await runTraining(config, {
      resume,
      existOk,
      onEvent: (event) => post({ kind: 'event', event }),
      stop: () => flag.requested(),
    });
    post({ kind: 'result', result });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const signal = e instanceof TrainingInterruptedError ? e.signal : undefined;
    post({
      kind: 'error',
      name: err.name,
      message: err.message,
      stack: err.stack ?? '',
      ...(signal ? { signal } : {}),
    });
  }
}
