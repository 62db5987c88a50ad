/**
 * `pnpm bench:queue`'s worker process: `startWorker` (what `samtune worker` runs) with its events as
 * JSON lines; SIGTERM closes it. Usage: tsx --conditions=@samtune/source bench/queue-worker.ts <redis url>
 */
import { startWorker } from '@samtune/jobs';

const w = await startWorker({ redisUrl: process.argv[2] as string });
process.on('SIGTERM', () => {
  void w.close().then(() => process.exit(0));
});
