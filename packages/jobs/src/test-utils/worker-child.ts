/**
 * Test-only child process: `tsx --conditions=@samtune/source worker-child.ts '<WorkerOptions JSON>'`
 * runs `startWorker` and prints every `WorkerEvent` as one JSON line; SIGTERM closes it gracefully.
 */
import { startWorker, type WorkerOptions } from '../worker.js';

const opts = JSON.parse(process.argv[2] as string) as WorkerOptions;
const w = await startWorker({ ...opts, onEvent: (e) => process.stdout.write(`${JSON.stringify(e)}\n`) });
process.on('SIGTERM', () => {
  void w.close().then(() => process.exit(0));
});
