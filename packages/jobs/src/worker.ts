/**
 * `samtune worker`: runs the jobs of every samtune queue in a Redis (or the ones named), anywhere
 * that sees the queues' shared output folder. Each checkpoint is loaded once per process.
 *
 * Reliability is BullMQ's: a worker holds a lock on each active job and renews it every
 * `lockDurationMs / 2` (the heartbeat); when a worker dies, its lock expires and another worker's
 * stalled check (every `stalledIntervalMs`) puts the job back in `wait`. A transient error is
 * retried with exponential backoff up to the queue's `attempts`; an input error (bad image, bad
 * prompt, a payload that breaks the schema or names a path outside the queue's `dataRoot` /
 * `outDir`: `job-schema.ts`) fails the job at once (`UnrecoverableError`), keeping the message as
 * its failed reason. A worker whose checkpoint
 * file differs from the producer's (SHA-256) refuses the queue (an `error` event) and takes none of
 * its jobs.
 * `close()` (SIGTERM) stops taking jobs and lets the active ones finish.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { QueueInputError } from './errors.js';
import type { AutolabelJobData, EmbedJobData, JobResult } from './job-data.js';
import { checkJobData } from './job-schema.js';
import { BULL_PREFIX, connectRedis, listQueueIds, readQueueMeta } from './queue-store.js';
import {
  isPermanent,
  openQueueRuntime,
  releaseModels,
  runAutolabelJob,
  runEmbedJob,
  type QueueRuntime,
} from './tasks.js';

/** What a worker reports (one event per line in `samtune worker --json`). */
export type WorkerEvent =
  | { readonly type: 'ready'; readonly worker: string }
  | { readonly type: 'queue'; readonly worker: string; readonly queue: string }
  | {
      readonly type: 'active';
      readonly worker: string;
      readonly queue: string;
      readonly jobId: string;
      readonly attempt: number;
    }
  | {
      readonly type: 'completed';
      readonly worker: string;
      readonly queue: string;
      readonly jobId: string;
      readonly reused: boolean;
      readonly seconds: number;
    }
  | {
      readonly type: 'failed';
      readonly worker: string;
      readonly queue: string;
      readonly jobId: string;
      readonly reason: string;
      /** False when the job is now in `failed` (input error, or attempts used up). */
      readonly willRetry: boolean;
    }
  | { readonly type: 'error'; readonly worker: string; readonly message: string }
  | { readonly type: 'closing'; readonly worker: string }
  | { readonly type: 'closed'; readonly worker: string };

export interface WorkerOptions {
  readonly redisUrl: string;
  /** Jobs run at once per queue (default 1: the encoder already uses every core). */
  readonly concurrency?: number;
  /** Only these queue ids (default: every registered queue, including ones registered later). */
  readonly queues?: readonly string[];
  /** How often the registry is re-read for new queues (default 5000 ms). */
  readonly pollMs?: number;
  /** Job lock (heartbeat renews it every half of it; default 30000 ms). */
  readonly lockDurationMs?: number;
  /** Stalled-job check period (default 30000 ms). */
  readonly stalledIntervalMs?: number;
  /** Times a job may stall (its worker died) before it is failed (default 2). */
  readonly maxStalledCount?: number;
  /** Worker id (default `host:pid:random`). */
  readonly id?: string;
  readonly onEvent?: (e: WorkerEvent) => void;
}

/** A started worker process part. */
export interface RunningWorker {
  readonly id: string;
  /** Queues served so far. */
  queues(): readonly string[];
  /**
   * Stops taking jobs and waits for the active ones; `force` abandons them instead (they return to
   * the queue when their lock expires). A second call returns the first call's promise.
   */
  close(force?: boolean): Promise<void>;
}

/** Starts serving queues (see the module comment). */
export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new QueueInputError(`startWorker(opts.concurrency): expected an integer >= 1, got ${concurrency}`);
  const id = opts.id ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const emit = (e: WorkerEvent): void => opts.onEvent?.(e);
  const redis: Redis = connectRedis(opts.redisUrl, 'worker');
  const workers = new Map<string, Worker>();
  const starting = new Set<string>();
  let closing = false;
  let closed: Promise<void> | undefined;

  const processor =
    (queue: string, rt: QueueRuntime) =>
    async (job: Job<unknown>): Promise<JobResult> => {
      emit({ type: 'active', worker: id, queue, jobId: job.id as string, attempt: job.attemptsMade + 1 });
      try {
        const data = checkJobData(rt.meta, job.id as string, job.data);
        return rt.meta.kind === 'embed'
          ? await runEmbedJob(rt, data as EmbedJobData, id)
          : await runAutolabelJob(rt, data as AutolabelJobData, id);
      } catch (err) {
        const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        throw isPermanent(err) ? new UnrecoverableError(message) : err;
      }
    };

  // The model (and its encoder / decoder sessions) is loaded BEFORE the queue's BullMQ worker takes
  // a job: building them is synchronous work that would otherwise starve the first job's lock renewal.
  const serve = async (queue: string): Promise<void> => {
    if (starting.has(queue) || closing) return;
    starting.add(queue);
    let rt: QueueRuntime;
    try {
      rt = await openQueueRuntime(await readQueueMeta(redis, queue));
    } catch (err) {
      starting.delete(queue); // retried on the next registry poll
      emit({ type: 'error', worker: id, message: `${queue}: cannot open the queue: ${(err as Error).message}` });
      return;
    }
    if (closing) return;
    const w = new Worker(queue, processor(queue, rt), {
      connection: redis,
      prefix: BULL_PREFIX,
      concurrency,
      name: id,
      lockDuration: opts.lockDurationMs ?? 30_000,
      stalledInterval: opts.stalledIntervalMs ?? 30_000,
      maxStalledCount: opts.maxStalledCount ?? 2,
    });
    // emitted once BullMQ has moved the job (a worker that lost its lock gets no 'completed')
    w.on('completed', (job: Job, res: JobResult) =>
      emit({
        type: 'completed',
        worker: id,
        queue,
        jobId: job.id as string,
        reused: res.reused,
        seconds: ((job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now())) / 1000,
      }),
    );
    w.on('failed', (job: Job | undefined, err: Error) => {
      if (!job) return;
      const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      emit({ type: 'failed', worker: id, queue, jobId: job.id as string, reason: err.message, willRetry: !final });
    });
    w.on('error', (err) => emit({ type: 'error', worker: id, message: `${queue}: ${err.message}` }));
    workers.set(queue, w);
    emit({ type: 'queue', worker: id, queue });
  };

  // Registered queues with work left (old, drained queues are not opened: their models stay unloaded).
  const hasWork = async (queue: string): Promise<boolean> => {
    const q = new Queue(queue, { connection: redis, prefix: BULL_PREFIX });
    try {
      const c = await q.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
      return Object.values(c).some((n) => n > 0);
    } finally {
      await q.close();
    }
  };
  const discover = async (): Promise<void> => {
    const ids = opts.queues ?? (await listQueueIds(redis));
    for (const q of ids) if (!starting.has(q) && (opts.queues || (await hasWork(q)))) await serve(q);
  };
  await discover();
  const timer = opts.queues
    ? undefined
    : setInterval(() => {
        discover().catch((err: Error) => emit({ type: 'error', worker: id, message: `registry: ${err.message}` }));
      }, opts.pollMs ?? 5000);
  emit({ type: 'ready', worker: id });

  return {
    id,
    queues: () => [...workers.keys()],
    close(force = false) {
      if (closed) return closed;
      closing = true;
      emit({ type: 'closing', worker: id });
      if (timer) clearInterval(timer);
      closed = (async () => {
        await Promise.all([...workers.values()].map((w) => w.close(force)));
        await releaseModels();
        await redis.quit().catch(() => undefined);
        emit({ type: 'closed', worker: id });
      })();
      return closed;
    },
  };
}
