/**
 * `samtune queue …` and `samtune worker` on a throw-away redis-server (127.0.0.1, random port): the
 * producer prints the queue id, status reports a bad image's failure with its reason (exit code 1),
 * collect refuses an embed queue, a SAM 2.1 checkpoint's cache entry has the high-res levels, and flags are checked. The multi-process acceptance tests (kill -9,
 * autolabel + collect) are in packages/jobs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker } from '@samtune/jobs';
import { readSafetensors } from '@samtune/tensor-files';
import { recordingIO, referencePath } from '../test-utils/io.js';
import { writeSam2MiniCheckpoint } from '../test-utils/sam2-mini.js';
import { queueAutolabelCommand, queueEmbedCommand } from './queue.js';
import { queueCollectCommand, queueStatusCommand } from './queue-status.js';
import { workerCommand } from './worker.js';

let server: ChildProcess | undefined;
let url = '';
const tmp = mkdtempSync(join(tmpdir(), 'samtune-cli-queue-'));

beforeAll(async () => {
  const probe = spawnSync('redis-server', ['--version']);
  if (probe.error || probe.status !== 0)
    throw new Error(
      'redis-server is not installed: apt-get install -y redis-server (`pnpm test` does this when run as root)',
    );
  const port = await new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  url = `redis://127.0.0.1:${port}`;
  await new Promise((r) => setTimeout(r, 700));
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe('samtune queue / worker', () => {
  it('enqueues, and status shows a bad image failed with its reason', async () => {
    writeFileSync(join(tmp, 'broken.png'), 'not a PNG');
    const io = recordingIO();
    const args = [
      '--redis',
      url,
      '--data-root',
      tmp,
      '--out',
      join(tmp, 'cache'),
      '--checkpoint',
      referencePath('tinyvit.pth'),
    ];
    expect(await queueEmbedCommand.run([...args, '--attempts', '2'], io)).toBe(0);
    const id = io.stdout[0]!;
    expect(id).toMatch(/^embed-[0-9a-f]{12}$/);

    const w = await startWorker({ redisUrl: url, pollMs: 200 });
    let status;
    for (let i = 0; i < 600; i++) {
      const s = recordingIO();
      const code = await queueStatusCommand.run([id, '--redis', url, '--json'], s);
      status = JSON.parse(s.stdout[0]!);
      if (status.remaining === 0) {
        expect(code).toBe(1);
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await w.close();
    expect(status.counts).toMatchObject({ failed: 1, completed: 0 });
    expect(status.failed[0]).toMatchObject({ imagePath: join(tmp, 'broken.png'), attempts: 1 });
    expect(status.failed[0].reason).toMatch(/^EmbeddingCacheError: .*broken\.png.*cannot read image/);

    const text = recordingIO();
    await queueStatusCommand.run([id, '--redis', url], text);
    expect(text.stdout[0]).toMatch(/0\/1 done, 1 failed/);
    expect(text.stdout[0]).toContain(`failed ${join(tmp, 'broken.png')}`);

    // the same command again adds nothing
    const again = recordingIO();
    expect(await queueEmbedCommand.run([...args, '--json'], again)).toBe(0);
    expect(JSON.parse(again.stdout[0]!)).toMatchObject({ queue: id, added: 0, alreadyQueued: 1 });

    await expect(queueCollectCommand.run([id, '--redis', url, '--out', join(tmp, 'x.json')], io)).rejects.toThrow(
      /has kind embed; only autolabel queues have labels/,
    );
    await expect(queueStatusCommand.run(['embed-000000000000', '--redis', url], io)).rejects.toThrow(
      /no queue 'embed-000000000000' in this Redis; known queues: embed-/,
    );
  }, 180_000);

  it('queue embed with a SAM 2.1 checkpoint: the cache entry carries the high-res levels', async () => {
    const dir = join(tmp, 'sam2');
    mkdirSync(dir);
    copyFileSync(referencePath('dog.jpg'), join(dir, 'dog.jpg'));
    const checkpoint = await writeSam2MiniCheckpoint(tmp);
    const io = recordingIO();
    const args = ['--redis', url, '--data-root', dir, '--out', join(tmp, 'cache2'), '--checkpoint', checkpoint];
    expect(await queueEmbedCommand.run([...args, '--json'], io)).toBe(0);
    const { queue } = JSON.parse(io.stdout[0]!) as { queue: string };
    const w = await startWorker({ redisUrl: url, pollMs: 200, queues: [queue] });
    let status;
    try {
      for (let i = 0; i < 600; i++) {
        const s = recordingIO();
        await queueStatusCommand.run([queue, '--redis', url, '--json'], s);
        status = JSON.parse(s.stdout[0]!);
        if (status.remaining === 0) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      await w.close();
    }
    expect(status.counts).toMatchObject({ completed: 1, failed: 0 });
    const [file] = readdirSync(join(tmp, 'cache2'));
    const { tensors, metadata } = readSafetensors(join(tmp, 'cache2', file!));
    expect(tensors.get('high_res_feats.0')?.shape).toEqual([1, 32, 256, 256]);
    expect(tensors.get('high_res_feats.1')?.shape).toEqual([1, 64, 128, 128]);
    expect(metadata['samtune.embedding.family']).toBe('sam2');
  }, 120_000);

  it('checks its flags', async () => {
    const io = recordingIO();
    await expect(queueEmbedCommand.run(['--data-root', tmp], io)).rejects.toThrow(/missing required flag --out/);
    // --redis may come from SAMTUNE_REDIS_URL; with neither, the command names both.
    const saved = process.env.SAMTUNE_REDIS_URL;
    delete process.env.SAMTUNE_REDIS_URL;
    try {
      await expect(queueEmbedCommand.run(['--data-root', tmp, '--out', tmp, '--checkpoint', 'x'], io)).rejects.toThrow(
        'missing required flag --redis (or SAMTUNE_REDIS_URL in the environment)',
      );
    } finally {
      if (saved !== undefined) process.env.SAMTUNE_REDIS_URL = saved;
    }
    await expect(
      queueAutolabelCommand.run(
        ['--redis', url, '--data-root', tmp, '--out', tmp, '--checkpoint', 'x', '--prompt', 'lasso'],
        io,
      ),
    ).rejects.toThrow("--prompt 'lasso': expected both, box or points");
    await expect(queueStatusCommand.run(['--redis', url], io)).rejects.toThrow(/missing the queue id/);
    await expect(workerCommand.run(['--redis', url, '--concurrency', '0'], io)).rejects.toThrow(
      /--concurrency '0': expected an integer >= 1/,
    );
    await expect(
      queueEmbedCommand.run(['--redis', 'localhost:6379', '--data-root', tmp, '--out', tmp, '--checkpoint', 'x'], io),
    ).rejects.toThrow(/expected redis:\/\/host:port/);
  });
});
