/**
 * `samtune worker`: runs the jobs of `samtune queue embed|autolabel` (see @samtune/jobs) on any
 * machine that sees the same Redis and the queues' shared output folder. SIGTERM/SIGINT: stop taking
 * jobs and finish the active ones (a second signal, a second or more later, abandons them: they
 * return to the queue when their lock expires).
 */
import { Type } from 'typebox';
import type { WorkerEvent } from '@samtune/jobs';
import type { CliIO } from '../command.js';
import * as common from '../common-flags.js';
import { defineCommand, Flag } from '../flags.js';

const FLAGS = Type.Object({
  redis: common.redis,
  concurrency: Flag.int('jobs at once per queue (one image already uses every core)', 1, { default: 1 }),
  queue: Flag.texts('only this queue (repeatable; default: every queue, also ones enqueued later)', '<id>'),
  'lock-ms': Flag.int(
    "job lock, renewed every half of it (heartbeat); a dead worker's job returns to the queue after about this long",
    1,
    { default: 30_000, placeholder: '<ms>' },
  ),
  json: Flag.bool('one JSON event per line on stdout'),
});

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

export const workerCommand = defineCommand({
  path: ['worker'],
  summary: 'run queued embed/autolabel jobs from Redis (start one per machine; SIGTERM finishes the job)',
  synopsis: `usage: samtune worker --redis <url> [--concurrency <n>] [--queue <id>]... [--lock-ms <ms>] [--json]

Runs until SIGTERM/SIGINT. Each checkpoint is loaded once per process.`,
  flags: FLAGS,
  async run(f, io) {
    const { startWorker } = await import('@samtune/jobs');
    const w = await startWorker({
      redisUrl: common.redisUrl(f.redis),
      concurrency: f.concurrency,
      lockDurationMs: f['lock-ms'],
      stalledIntervalMs: f['lock-ms'],
      ...(f.queue.length > 0 ? { queues: f.queue } : {}),
      onEvent: render(io, f.json),
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
});
