import { describe, expect, it } from 'vitest';
import { queueIdFor } from './queue-store.js';
import { formatQueueStatus, type QueueStatus } from './status.js';

describe('queueIdFor', () => {
  const base = {
    kind: 'embed',
    encoderKey: 'e'.repeat(64),
    checkpointSha256: 'c',
    outDir: '/o',
    dataRoot: '/d',
  } as const;
  it('is stable, and changes with what defines the results', () => {
    expect(queueIdFor(base)).toMatch(/^embed-[0-9a-f]{12}$/);
    expect(queueIdFor(base)).toBe(queueIdFor({ ...base }));
    // embeddings depend on the encoder only: another checkpoint file with the same encoder, same queue
    expect(queueIdFor({ ...base, checkpointSha256: 'other' })).toBe(queueIdFor(base));
    expect(queueIdFor({ ...base, outDir: '/p' })).not.toBe(queueIdFor(base));
    const al = { ...base, kind: 'autolabel' } as const;
    expect(queueIdFor(al)).toMatch(/^autolabel-/);
    expect(queueIdFor({ ...al, checkpointSha256: 'other' })).not.toBe(queueIdFor(al));
    expect(queueIdFor({ ...al, prompt: 'box' })).not.toBe(queueIdFor(al));
  });
});

describe('formatQueueStatus', () => {
  it('draws the bar, the counts, throughput, ETA and each failure', () => {
    const s: QueueStatus = {
      id: 'embed-0123456789ab',
      kind: 'embed',
      outDir: '/cache',
      total: 10,
      doneAtEnqueue: 2,
      counts: { waiting: 3, active: 1, delayed: 0, completed: 3, failed: 1 },
      done: 5,
      remaining: 4,
      workers: 2,
      imagesPerSecond: 0.5,
      etaSeconds: 8,
      failed: [{ jobId: 'j1', imagePath: '/img/bad.jpg', reason: 'ImageReadError: boom', attempts: 1 }],
    };
    expect(formatQueueStatus(s, 10).split('\n')).toEqual([
      'embed-0123456789ab (embed -> /cache)',
      '[######----] 5/10 done, 1 failed, 60%',
      'waiting 3, active 1, delayed 0, completed 3, done before enqueue 2; workers 2',
      'throughput 0.50 images/s, eta 8s',
      'failed /img/bad.jpg (job j1, 1 attempt): ImageReadError: boom',
    ]);
  });
});
