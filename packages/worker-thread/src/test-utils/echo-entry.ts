/** Test-only worker entry: posts back its workerData, doubled, and whether the source condition is on. */
import { parentPort, workerData } from 'node:worker_threads';

const { n } = workerData as { n: number };
parentPort?.postMessage({
  doubled: 2 * n,
  sourceCondition: process.execArgv.some((a) => a.includes('@samtune/source')),
});
