/**
 * @samtune/worker-thread: `spawnWorker(entry, workerData)`, one way to start a worker thread on a
 * module of the calling package, from a build (`.js`) or from sources (`.ts` through tsx).
 */
export { spawnWorker, workerEntryFile, WorkerLoaderError } from './spawn-worker.js';
