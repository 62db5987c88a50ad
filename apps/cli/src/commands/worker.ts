/**
 * `samtune worker`: runs the jobs of `samtune queue embed|autolabel` (see @samtune/jobs) on any
 * machine that sees the same Redis and the queues' shared output folder. SIGTERM/SIGINT: stop taking
 * jobs and finish the active ones (a second signal, a second or more later, abandons them: they
 * return to the queue when their lock expires).
 */
import { startWorker, type WorkerEvent } from '@samtune/jobs';
import { parseFlags, redisUrl } from '../args.js';
import { UsageError, type CliCommand, type CliIO } from '../command.js';

function positiveInt(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} '${v}': expected an integer >= 1`);
  return n;
}

function render(io: CliIO, json: boolean): (e: WorkerEvent) => void {
  return (e) => {
    if (json) return io.out(JSON.stringify(e));
    if (e.type === 'ready') io.err(`worker ${e.worker}: ready`);
    else if (e.type === 'queue') io.err(`worker: serving queue ${e.queue}`);
    else if (e.type === 'completed')
      io.err(
        `${e.queue} ${e.jobId.slice(0, 12)}… done in ${e.seconds.toFixed(2)} s${e.reused ? ' (output reused)' : ''}`,
      );
    else if (e.type === 'failed')
      io.err(`${e.queue} ${e.jobId.slice(0, 12)}… failed${e.willRetry ? ' (will retry)' : ''}: ${e.reason}`);
    else if (e.type === 'error') io.err(`worker error: ${e.message}`);
    else if (e.type === 'closing') io.err('worker: finishing the active jobs, then exiting');
    else if (e.type === 'closed') io.err('worker: closed');
  };
}

export const workerCommand: CliCommand = {
  path: ['worker'],
  summary: 'run queued embed/autolabel jobs from Redis (start one per machine; SIGTERM finishes the job)',
  usage: `usage: samtune worker --redis <url> [--concurrency <n>] [--queue <id>]... [--lock-ms <ms>] [--json]

  --redis <url>        redis://[:password@]host:port of the producer (default $SAMTUNE_REDIS_URL)
  --concurrency <n>    jobs at once per queue (default 1: one image already uses every core)
  --queue <id>         only this queue (repeatable; default: every queue, also ones enqueued later)
  --lock-ms <ms>       job lock, renewed every half of it (heartbeat); a dead worker's job returns to
                       the queue after about this long (default 30000)
  --json               one JSON event per line on stdout
  Runs until SIGTERM/SIGINT. Each checkpoint is loaded once per process.`,
  async run(argv, io) {
    const f = parseFlags(argv, {
      redis: { type: 'string' },
      concurrency: { type: 'string' },
      queue: { type: 'string', multiple: true },
      'lock-ms': { type: 'string' },
      json: { type: 'boolean' },
    });
    const lockMs = positiveInt(f['lock-ms'], 'lock-ms', 30_000);
    const w = await startWorker({
      redisUrl: redisUrl(f.redis),
      concurrency: positiveInt(f.concurrency, 'concurrency', 1),
      lockDurationMs: lockMs,
      stalledIntervalMs: lockMs,
      ...(f.queue ? { queues: f.queue } : {}),
      onEvent: render(io, f.json ?? false),
    });
    await new Promise<void>((resolve) => {
      let first = 0;
      // a signal that arrives twice at once (a terminal's Ctrl-C reaches tsx and its child) counts once
      const onSignal = (): void => {
        if (first === 0) {
          first = Date.now();
          void w.close().then(resolve);
        } else if (Date.now() - first >= 1000) {
          io.err('worker: second signal, exiting now; the active jobs return to the queue when their locks expire');
          process.exit(143);
        }
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
    return 0;
  },
};
