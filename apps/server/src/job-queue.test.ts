import { describe, expect, it } from 'vitest';
import { ClientGoneError, JobQueue, QueueFullError } from './job-queue.js';

/** A task that resolves with `value` when `release()` is called. */
function gate<T>(value: T): { task: () => Promise<T>; release: () => void; started: () => boolean } {
  let release = (): void => undefined;
  let started = false;
  const p = new Promise<T>((resolve) => (release = () => resolve(value)));
  return {
    task: () => {
      started = true;
      return p;
    },
    release: () => release(),
    started: () => started,
  };
}

describe('JobQueue', () => {
  it('runs one job at a time in FIFO order and refuses beyond its capacity with 503 + a retry estimate', async () => {
    const q = new JobQueue(3);
    const a = gate('a');
    const b = gate('b');
    const c = gate('c');
    const pa = q.run('predict', a.task);
    const pb = q.run('predict', b.task);
    const pc = q.run('predict', c.task);
    expect([a.started(), b.started(), c.started(), q.size]).toEqual([true, false, false, 3]);
    const refused = await q.run('predict', async () => 'd').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(QueueFullError);
    expect((refused as QueueFullError).status).toBe(503);
    expect((refused as QueueFullError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((refused as Error).message).toBe(
      `queue: the model queue is full (3 jobs waiting or running); retry after ${(refused as QueueFullError).retryAfterSeconds} s`,
    );
    a.release();
    expect(await pa).toBe('a');
    expect(b.started()).toBe(true);
    b.release();
    c.release();
    expect([await pb, await pc]).toEqual(['b', 'c']);
    expect(q.stats()).toMatchObject({ capacity: 3, waiting: 0, running: 0, done: 3, dropped: 0, refused: 1 });
  });

  it('drops a waiting job whose client has gone, and never starts it', async () => {
    const q = new JobQueue(4);
    const first = gate(1);
    const gone = gate(2);
    const p1 = q.run('predict', first.task);
    const ac = new AbortController();
    const p2 = q.run('predict', gone.task, ac.signal);
    ac.abort();
    await expect(p2).rejects.toThrow(ClientGoneError);
    first.release();
    expect(await p1).toBe(1);
    expect(gone.started()).toBe(false);
    expect(q.stats()).toMatchObject({ done: 1, dropped: 1, waiting: 0 });
    const pre = new AbortController();
    pre.abort();
    await expect(q.run('embed', async () => 3, pre.signal)).rejects.toThrow(
      'queue: embed dropped before it started, its client closed the connection',
    );
  });

  it('holds jobs while paused (they still count against the capacity) and a failing job does not stop the queue', async () => {
    const q = new JobQueue(2);
    q.pause();
    const p1 = q.run('predict', async () => {
      throw new Error('boom');
    });
    const p2 = q.run('predict', async () => 'ok');
    await expect(q.run('predict', async () => 'x')).rejects.toThrow(QueueFullError);
    expect(q.stats()).toMatchObject({ waiting: 2, running: 0 });
    q.resume();
    await expect(p1).rejects.toThrow('boom');
    expect(await p2).toBe('ok');
  });
});
