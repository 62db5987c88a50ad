import { floatTensor, type ImageEmbedding } from '@samtune/sam-model';
import { describe, expect, it } from 'vitest';
import { EmbeddingCache } from './embedding-cache.js';
import { SerialQueue } from './serial-queue.js';

const emb: ImageEmbedding = {
  embedding: floatTensor(new Float32Array(1), [1, 1, 1, 1]),
  originalSize: [2, 3],
  inputSize: [2, 3],
};
const entry = (id: string) => ({ id, embedding: emb });

describe('EmbeddingCache', () => {
  it('drops the least recently used entry beyond its capacity', () => {
    const c = new EmbeddingCache(2);
    c.set(entry('a'));
    c.set(entry('b'));
    expect(c.get('a')?.id).toBe('a'); // a is now the most recent
    c.set(entry('c'));
    expect([c.has('a'), c.has('b'), c.has('c'), c.size]).toEqual([true, false, true, 2]);
    expect(() => new EmbeddingCache(0)).toThrow(/expected an integer >= 1, got 0/);
  });

  it('shares one computation between concurrent requests and caches nothing on failure', async () => {
    const c = new EmbeddingCache(4);
    let calls = 0;
    const make = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      return entry('x');
    };
    const [r1, r2] = await Promise.all([c.getOrCreate('x', make), c.getOrCreate('x', make)]);
    expect(calls).toBe(1);
    expect([r1.cached, r2.cached]).toEqual([false, false]);
    expect((await c.getOrCreate('x', make)).cached).toBe(true);
    await expect(c.getOrCreate('y', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(c.has('y')).toBe(false);
    expect((await c.getOrCreate('y', async () => entry('y'))).cached).toBe(false);
  });
});

describe('SerialQueue', () => {
  it('runs tasks one at a time in order and goes on after a failure', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    let running = 0;
    const task =
      (name: string, ms: number, fail = false) =>
      async () => {
        running++;
        expect(running).toBe(1);
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        running--;
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([q.run(task('a', 10)), q.run(task('b', 1, true)), q.run(task('c', 1))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(q.pending).toBe(0);
  });
});
