/**
 * Hostile job payloads on a real Redis (issue 22): jobs written straight into a queue (as anyone with
 * Redis access can) with a malformed payload, an `imagePath` outside the queue's `dataRoot` and an
 * `outputPath` that would replace a file outside its `outDir`: each fails after ONE attempt
 * (UnrecoverableError, although the queue allows 3), with a reason that names the problem and no
 * hash of the outside file; the outside file is untouched.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { sha256File } from '@samtune/sam-model';
import { referencePath } from '@samtune/test-fixtures';
import { BULL_PREFIX, connectRedis, registerQueue, type QueueMeta } from './queue-store.js';
import { startWorker, type RunningWorker, type WorkerEvent } from './worker.js';
import { startTestRedis, type TestRedis } from './test-utils/redis-server.js';

let redisServer: TestRedis;
let redis: Redis;
let tmp: string;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  redisServer = await startTestRedis();
  redis = connectRedis(redisServer.url);
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'samtune-jobs-hostile-')));
});

afterAll(async () => {
  await worker?.close(true);
  await redis?.quit();
  await redisServer?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('a worker and hostile job payloads', () => {
  it('fails each at once, names the problem, publishes no outside hash, touches no outside file', async () => {
    const dataRoot = join(tmp, 'data');
    const outDir = join(tmp, 'out');
    mkdirSync(dataRoot);
    cpSync(referencePath('dog.jpg'), join(dataRoot, 'dog.jpg'));
    const victim = join(tmp, 'victim.json');
    writeFileSync(victim, '{"keep":"me"}\n');
    const secret = join(tmp, 'secret.bin');
    writeFileSync(secret, 'secret bytes');
    const secretSha = createHash('sha256').update('secret bytes').digest('hex');
    const checkpoint = referencePath('tinyvit.pth');
    const meta: QueueMeta = {
      id: 'autolabel-00000000beef',
      kind: 'autolabel',
      checkpoint,
      checkpointSha256: await sha256File(checkpoint),
      encoderKey: 'e',
      outDir,
      dataRoot,
      prompt: 'box',
      attempts: 3,
      createdAt: new Date().toISOString(),
    };
    await registerQueue(redis, meta);
    const hex = 'ab'.repeat(32);
    const good = {
      imagePath: join(dataRoot, 'dog.jpg'),
      imageSha256: hex,
      cacheKey: hex,
      outputPath: join(outDir, 'labels', 'x.json'),
      prompt: 'box',
      prompts: [{ instanceId: '1', categoryId: 1, box: [10, 10, 100, 100] }],
    };
    const jobs: Record<string, unknown> = {
      malformed: { imagePath: 42, prompts: 'all' },
      'image-outside': { ...good, imagePath: secret },
      'output-outside': { ...good, outputPath: victim },
    };
    const queue = new Queue(meta.id, { connection: redis, prefix: BULL_PREFIX });
    for (const [name, data] of Object.entries(jobs))
      await queue.add(name, data, { jobId: name, attempts: 3, backoff: { type: 'fixed', delay: 100 } });

    const events: WorkerEvent[] = [];
    const failed = new Promise<void>((resolve) => {
      worker = undefined;
      void startWorker({
        redisUrl: redisServer.url,
        queues: [meta.id],
        onEvent: (e) => {
          events.push(e);
          if (events.filter((x) => x.type === 'failed').length === 3) resolve();
        },
      }).then((w) => (worker = w));
    });
    await failed;
    const reasons: Record<string, string> = {};
    for (const name of Object.keys(jobs)) {
      const job = await queue.getJob(name);
      expect(await job?.getState()).toBe('failed');
      expect(job?.attemptsMade).toBe(1);
      reasons[name] = job?.failedReason ?? '';
      expect(reasons[name]).not.toContain(secretSha);
    }
    expect(events.filter((e) => e.type === 'failed').every((e) => e.type === 'failed' && !e.willRetry)).toBe(true);
    expect(reasons.malformed).toMatch(/^JobInputError: runJob\(autolabel-00000000beef\/malformed\): job data: /);
    expect(reasons.malformed).toContain('imagePath must be string, got 42');
    expect(reasons['image-outside']).toBe(
      `PathOutsideFolderError: runJob(autolabel-00000000beef/image-outside): data.imagePath: expected a file inside ${dataRoot}, got '${secret}' (it resolves to ${secret})`,
    );
    expect(reasons['output-outside']).toBe(
      `PathOutsideFolderError: runJob(autolabel-00000000beef/output-outside): data.outputPath: expected a file inside ${outDir}, got '${victim}' (it resolves to ${victim})`,
    );
    expect(readFileSync(victim, 'utf8')).toBe('{"keep":"me"}\n');
    await queue.close();
  }, 300_000);
});
