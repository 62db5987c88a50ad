/**
 * Worker-thread entry of `runTrainingInWorker`: runs `runTraining` with the `workerData` it was
 * given and posts every event, then the result (or the error), to the parent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TrainConfig } from './config.js';
import { runTraining } from './trainer.js';
import type { WorkerMessage } from './worker.js';

interface WorkerInput {
  readonly config: TrainConfig;
  readonly resume: boolean;
}

const port = parentPort;
if (port) {
  const { config, resume } = workerData as WorkerInput;
  const post = (m: WorkerMessage): void => port.postMessage(m);
  try {
    const result = await runTraining(config, { resume, onEvent: (event) => post({ kind: 'event', event }) });
    post({ kind: 'result', result });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    post({ kind: 'error', name: err.name, message: err.message, stack: err.stack ?? '' });
  }
}
