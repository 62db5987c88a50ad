/** `samtune queue status <id>`: counts, throughput, ETA, failed jobs with their reasons. */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { EmbedJobData } from './job-data.js';
import { BULL_PREFIX, readImageRecords, readQueueMeta, type QueueKind } from './queue-store.js';

/** A queue's state. */
export interface QueueStatus {
  readonly id: string;
  readonly kind: QueueKind;
  readonly outDir: string;
  /** Images of the queue. */
  readonly total: number;
  /** Images whose output existed at enqueue time (no job). */
  readonly doneAtEnqueue: number;
  /** BullMQ job counts by state. */
  readonly counts: {
    readonly waiting: number;
    readonly active: number;
    readonly delayed: number;
    readonly completed: number;
    readonly failed: number;
  };
  /** `doneAtEnqueue + completed`. */
  readonly done: number;
  /** Jobs still to run: waiting + active + delayed (retries waiting for their backoff). */
  readonly remaining: number;
  /** Workers connected to this queue now. */
  readonly workers: number;
  /** Completed jobs per second over the last (up to) 200 completions; NaN before two. */
  readonly imagesPerSecond: number;
  /** `remaining / imagesPerSecond` (0 when nothing remains, NaN when unknown). */
  readonly etaSeconds: number;
  /** Failed jobs (up to 50) with the image and the reason. */
  readonly failed: readonly {
    readonly jobId: string;
    readonly imagePath: string;
    readonly reason: string;
    readonly attempts: number;
  }[];
}

/** Reads the state of queue `id` (throws `QueueNotFoundError` for an unknown id). */
export async function queueStatus(redis: Redis, id: string): Promise<QueueStatus> {
  const meta = await readQueueMeta(redis, id);
  const records = await readImageRecords(redis, id);
  const queue = new Queue(id, { connection: redis, prefix: BULL_PREFIX });
  try {
    const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized');
    const counts = {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      completed: c.completed ?? 0,
      failed: c.failed ?? 0,
    };
    const recent = await queue.getJobs(['completed'], 0, 199);
    let imagesPerSecond = Number.NaN;
    if (recent.length >= 2) {
      const finished = recent.map((j) => j.finishedOn ?? 0);
      const started = recent.map((j) => j.processedOn ?? j.finishedOn ?? 0);
      const span = (Math.max(...finished) - Math.min(...started)) / 1000;
      if (span > 0) imagesPerSecond = recent.length / span;
    }
    const remaining = counts.waiting + counts.active + counts.delayed;
    const failedJobs = await queue.getJobs(['failed'], 0, 49);
    const doneAtEnqueue = records.filter((r) => r.doneAtEnqueue).length;
    return {
      id,
      kind: meta.kind,
      outDir: meta.outDir,
      total: records.length,
      doneAtEnqueue,
      counts,
      done: doneAtEnqueue + counts.completed,
      remaining,
      workers: (await queue.getWorkers()).length,
      imagesPerSecond,
      etaSeconds: remaining === 0 ? 0 : remaining / imagesPerSecond,
      failed: failedJobs.map((j) => ({
        jobId: j.id as string,
        imagePath: (j.data as EmbedJobData).imagePath,
        reason: j.failedReason,
        attempts: j.attemptsMade,
      })),
    };
  } finally {
    await queue.close();
  }
}

/** Seconds as `42s`, `3m07s` or `2h05m` (`?` when not finite): queue ETAs and the CLI's progress bars. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Human-readable status: a progress bar line, the counts, and each failed job's reason. */
export function formatQueueStatus(s: QueueStatus, width = 30): string {
  const frac = s.total > 0 ? (s.done + s.counts.failed) / s.total : 0;
  const fill = Math.round(Math.min(1, frac) * width);
  const lines = [
    `${s.id} (${s.kind} -> ${s.outDir})`,
    `[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${s.done}/${s.total} done, ${s.counts.failed} failed, ${(frac * 100).toFixed(0)}%`,
    `waiting ${s.counts.waiting}, active ${s.counts.active}, delayed ${s.counts.delayed}, completed ${s.counts.completed}, done before enqueue ${s.doneAtEnqueue}; workers ${s.workers}`,
    `throughput ${Number.isFinite(s.imagesPerSecond) ? s.imagesPerSecond.toFixed(2) : '?'} images/s, eta ${formatDuration(s.etaSeconds)}`,
    ...s.failed.map(
      (f) => `failed ${f.imagePath} (job ${f.jobId}, ${f.attempts} attempt${f.attempts === 1 ? '' : 's'}): ${f.reason}`,
    ),
  ];
  return lines.join('\n');
}
