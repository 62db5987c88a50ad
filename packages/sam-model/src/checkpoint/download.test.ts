import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CheckpointUnavailableError,
  ChecksumMismatchError,
  UnknownCheckpointError,
  resolveCheckpoint,
} from './download.js';
import type { PublishedCheckpoint } from './registry.js';

const payload = new Uint8Array(300_000).map((_, i) => (i * 31 + (i >> 8)) % 256);
const sha = createHash('sha256').update(payload).digest('hex');
const requests: Array<{ url: string; range: string | undefined }> = [];
let cutOnce = true;
let stallOnce = true;
let server: Server;
let base = '';
let root = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? '';
    requests.push({ url, range: req.headers.range });
    if (url === '/missing.pt') {
      res.writeHead(404).end('no');
      return;
    }
    if (url === '/stall.pt') {
      // Every request: 100 kB of the file from its start, then nothing more on an open connection.
      res.writeHead(200, { 'Content-Length': payload.length });
      res.write(Buffer.from(payload.subarray(0, 100_000)));
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && url !== '/norange.pt') {
      const start = Number(m[1]);
      if (start >= payload.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${payload.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'Content-Length': payload.length - start,
        'Content-Range': `bytes ${start}-${payload.length - 1}/${payload.length}`,
      });
      res.end(Buffer.from(payload.subarray(start)));
      return;
    }
    res.writeHead(200, { 'Content-Length': payload.length });
    if (url === '/stall-once.pt' && stallOnce) {
      stallOnce = false;
      // Send 100 kB, then nothing more on an open connection (a stalled download).
      res.write(Buffer.from(payload.subarray(0, 100_000)));
      return;
    }
    if (url === '/cut.pt' && cutOnce) {
      cutOnce = false;
      // Send 100 kB, then drop the connection mid-body.
      res.write(Buffer.from(payload.subarray(0, 100_000)), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(Buffer.from(payload));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  root = mkdtempSync(join(tmpdir(), 'samtune-dl-'));
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(root, { recursive: true, force: true });
});

let cacheDir = '';
let n = 0;
beforeEach(() => {
  cacheDir = join(root, `cache${n++}`);
  requests.length = 0;
});

function entry(path: string, extra: Partial<PublishedCheckpoint> = {}): Record<string, PublishedCheckpoint> {
  return { m: { preset: 'tiny_vit', url: `${base}${path}`, fileName: 'm.pt', ...extra } };
}

describe('resolveCheckpoint', () => {
  it('uses an existing path as is, without any network', async () => {
    const p = join(root, 'local.pt');
    writeFileSync(p, payload);
    const noFetch = (() => {
      throw new Error('fetch must not be called');
    }) as unknown as typeof fetch;
    expect(await resolveCheckpoint(p, { fetchImpl: noFetch })).toBe(p);
  });

  it('downloads a registry name into the cache with progress, size and SHA-256 checks, then reuses it', async () => {
    const progress: Array<[number, number | undefined]> = [];
    const registry = entry('/ok.pt', { sizeBytes: payload.length, sha256: sha });
    const p = await resolveCheckpoint('m', { cacheDir, registry, onProgress: (d, t) => progress.push([d, t]) });
    expect(p).toBe(join(cacheDir, 'm.pt'));
    expect(new Uint8Array(readFileSync(p))).toEqual(payload);
    expect(existsSync(`${p}.part`)).toBe(false);
    expect(readFileSync(`${p}.sha256`, 'utf8').split(/\s+/)[0]).toBe(sha);
    expect(progress.at(-1)).toEqual([payload.length, payload.length]);
    expect(progress.every((x, i) => i === 0 || x[0] >= progress[i - 1]![0])).toBe(true);
    expect(requests).toEqual([{ url: '/ok.pt', range: undefined }]);
    expect(await resolveCheckpoint('m', { cacheDir, registry })).toBe(p);
    expect(requests.length).toBe(1);
  });

  it('records the SHA-256 of an unhashed entry at first download and verifies later loads against it', async () => {
    const registry = entry('/ok.pt');
    const p = await resolveCheckpoint('m', { cacheDir, registry });
    expect(readFileSync(`${p}.sha256`, 'utf8').split(/\s+/)[0]).toBe(sha);
    const corrupt = new Uint8Array(payload);
    corrupt[123] = corrupt[123]! ^ 0xff;
    writeFileSync(p, corrupt);
    const err = await resolveCheckpoint('m', { cacheDir, registry }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expect((err as ChecksumMismatchError).expected).toBe(sha);
    expect((err as Error).message).toContain(`expected ${sha}`);
  });

  it('deletes the file and throws expected vs actual on a bad hash', async () => {
    const wrong = '0'.repeat(64);
    const err = await resolveCheckpoint('m', { cacheDir, registry: entry('/ok.pt', { sha256: wrong }) }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expect((err as ChecksumMismatchError).expected).toBe(wrong);
    expect((err as ChecksumMismatchError).actual).toBe(sha);
    expect((err as Error).message).toMatch(new RegExp(`SHA-256 of .* is ${sha}, expected ${wrong}`));
    expect(existsSync(join(cacheDir, 'm.pt.part'))).toBe(false);
    expect(existsSync(join(cacheDir, 'm.pt'))).toBe(false);
  });

  it('rejects a wrong size', async () => {
    const err = await resolveCheckpoint('m', {
      cacheDir,
      registry: entry('/ok.pt', { sizeBytes: payload.length + 1 }),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expect((err as Error).message).toContain(`gave ${payload.length} bytes, expected ${payload.length + 1}`);
  });

  it('keeps the part file of an interrupted download and resumes it with a Range request', async () => {
    const registry = entry('/cut.pt', { sizeBytes: payload.length, sha256: sha });
    const first = await resolveCheckpoint('m', { cacheDir, registry, retries: 0 }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(CheckpointUnavailableError);
    expect((first as Error).message).toContain('run again to resume');
    const part = readFileSync(join(cacheDir, 'm.pt.part'));
    expect(part.length).toBeGreaterThan(0);
    expect(part.length).toBeLessThan(payload.length);
    const progress: number[] = [];
    const p = await resolveCheckpoint('m', { cacheDir, registry, onProgress: (d) => progress.push(d) });
    expect(requests.at(-1)).toEqual({ url: '/cut.pt', range: `bytes=${part.length}-` });
    expect(progress[0]).toBe(part.length);
    expect(new Uint8Array(readFileSync(p))).toEqual(payload);
  });

  it('restarts from zero when the server ignores Range', async () => {
    const registry = entry('/norange.pt', { sha256: sha });
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(join(cacheDir, 'm.pt.part'), payload.subarray(0, 5000));
    const p = await resolveCheckpoint('m', { cacheDir, registry });
    expect(requests[0]!.range).toBe('bytes=5000-');
    expect(new Uint8Array(readFileSync(p))).toEqual(payload);
  });

  it('tells the user to pass --checkpoint when the host is unreachable or answers an error', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const registry = { m: { preset: 'vit_b', url: `http://127.0.0.1:${port}/x.pth`, fileName: 'x.pth' } } as const;
    const err = await resolveCheckpoint('m', { cacheDir, registry, retryDelayMs: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointUnavailableError);
    expect((err as Error).message).toContain('pass --checkpoint <path>');
    expect((err as Error).message).toContain('gave up after 5 attempts');
    const e404 = await resolveCheckpoint('m', { cacheDir, registry: entry('/missing.pt') }).catch((e: unknown) => e);
    expect(e404).toBeInstanceOf(CheckpointUnavailableError);
    expect((e404 as Error).message).toContain('(HTTP 404 Not Found)'); // not retried: one request
    expect(requests.filter((r) => r.url === '/missing.pt')).toHaveLength(1);
  });

  it('gives up on a stalled connection, then retries with backoff, resuming from the part file', async () => {
    const registry = entry('/stall-once.pt', { sizeBytes: payload.length, sha256: sha });
    const retries: { attempt: number; delayMs: number; reason: string }[] = [];
    const p = await resolveCheckpoint('m', {
      cacheDir,
      registry,
      stallTimeoutMs: 300,
      retryDelayMs: 5,
      onRetry: (r) => retries.push(r),
    });
    expect(retries).toEqual([{ attempt: 1, delayMs: 5, reason: 'stalled: no data for 300 ms after 100000 bytes' }]);
    expect(requests).toEqual([
      { url: '/stall-once.pt', range: undefined },
      { url: '/stall-once.pt', range: 'bytes=100000-' },
    ]);
    expect(new Uint8Array(readFileSync(p))).toEqual(payload);
    expect(existsSync(`${p}.part`)).toBe(false);
  });

  it('a connection that always stalls: gives up after the retries with a message, keeping the part file', async () => {
    const registry = entry('/stall.pt', { sizeBytes: payload.length, sha256: sha });
    const delays: number[] = [];
    const err = await resolveCheckpoint('m', {
      cacheDir,
      registry,
      retries: 2,
      stallTimeoutMs: 200,
      retryDelayMs: 5,
      onRetry: (r) => delays.push(r.delayMs),
    }).catch((e: unknown) => e);
    expect(delays).toEqual([5, 10]); // exponential backoff
    expect(err).toBeInstanceOf(CheckpointUnavailableError);
    expect((err as Error).message).toBe(
      `resolveCheckpoint('m'): could not download ${base}/stall.pt (stalled: no data for 200 ms after 100000 bytes; gave up after 3 attempts). You may be offline or the host is unreachable: download the file yourself and pass --checkpoint <path>. The partial download is kept at ${join(cacheDir, 'm.pt.part')}; run again to resume.`,
    );
    expect(readFileSync(join(cacheDir, 'm.pt.part')).length).toBe(100_000);
  });

  it('names the registry when the argument is neither a file nor a name', async () => {
    await expect(resolveCheckpoint('no/such/file.pth', { cacheDir })).rejects.toThrow(UnknownCheckpointError);
    await expect(resolveCheckpoint('vit_x', { cacheDir })).rejects.toThrow(/one of tiny_vit, vit_b, vit_l, vit_h/);
  });
});
