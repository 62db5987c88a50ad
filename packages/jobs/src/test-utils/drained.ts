/** Test-only: waits until a queue has no job left to run (every image done or failed). */
import type { Redis } from 'ioredis';
import { formatQueueStatus, queueStatus, type QueueStatus } from '../status.js';

/**
 * Polls `queueStatus` every `pollMs` until nothing remains; throws with the status (and `context()`,
 * e.g. the last worker events) after `timeoutMs`.
 */
export async function untilDrained(
  redis: Redis,
  id: string,
  timeoutMs: number,
  opts: { readonly pollMs?: number; readonly context?: () => string } = {},
): Promise<QueueStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await queueStatus(redis, id);
    if (s.remaining === 0 && s.done + s.counts.failed === s.total) return s;
    if (Date.now() > deadline)
      throw new Error(
        `queue ${id} not drained in ${timeoutMs} ms:\n${formatQueueStatus(s)}${opts.context ? `\n${opts.context()}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
  }
}
