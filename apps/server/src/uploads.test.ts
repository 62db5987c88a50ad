/**
 * Uploads are written to a hidden temporary file and linked in under their final name: a write that
 * fails (a full disk; here a real EFBIG under `ulimit -f`) leaves no truncated image, concurrent
 * identical uploads make one file, and a full disk is a named 507 error.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorReply, PayloadTooLargeError } from './errors.js';
import { spoolToFile } from './upload-spool.js';
import { listImages, storeUpload } from './images.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'samtune-uploads-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('storeUpload', () => {
  it('concurrent identical uploads make one file; different bytes under one name get -1, -2', async () => {
    const bytes = new Uint8Array(300_000).fill(3);
    const names = await Promise.all(Array.from({ length: 8 }, () => storeUpload(dir, 'a.png', 'png', bytes)));
    expect(names).toEqual(Array(8).fill('a.png'));
    expect(readdirSync(dir)).toEqual(['a.png']); // no duplicate, no temporary file left
    expect(readFileSync(join(dir, 'a.png')).equals(Buffer.from(bytes))).toBe(true);

    const other = await Promise.all([1, 2].map((v) => storeUpload(dir, 'a.png', 'png', new Uint8Array(10).fill(v))));
    expect(other.sort()).toEqual(['a-1.png', 'a-2.png']);
    expect(readdirSync(dir).sort()).toEqual(['a-1.png', 'a-2.png', 'a.png']);
  });

  it('a write that fails part-way (file size limit: EFBIG) leaves no image and no temporary file, and is a 507', () => {
    const child = join(import.meta.dirname, 'test-utils', 'upload-child.ts');
    const out = execFileSync(
      'bash',
      [
        '-c',
        'ulimit -f 16 && exec "$0" --import tsx --conditions=@samtune/source "$1" "$2" 100000',
        process.execPath,
        child,
        dir,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    const reply = JSON.parse(out.trim().split('\n').pop() as string) as ReturnType<typeof errorReply>;
    expect(reply.status).toBe(507);
    expect(reply.body.error).toMatchObject({ name: 'InsufficientStorageError', code: 'no-space' });
    expect(reply.body.error.message).toMatch(
      /^storage: write failed with EFBIG \(no space left on the device, or over a quota or file size limit\); nothing partial was kept, free space and retry$/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('names ENOSPC (a real one, from /dev/full) InsufficientStorageError, not Error', async () => {
    let err: unknown;
    try {
      writeFileSync('/dev/full', 'x');
    } catch (e) {
      err = e;
    }
    expect(errorReply(err)).toEqual({
      status: 507,
      body: {
        error: {
          name: 'InsufficientStorageError',
          code: 'no-space',
          message:
            'storage: write failed with ENOSPC (no space left on the device, or over a quota or file size limit); nothing partial was kept, free space and retry',
        },
      },
    });
    expect(await listImages(dir)).toEqual([]);
  });
});

describe('spoolToFile', () => {
  it('streams a body to a hidden temporary file; past the limit it is a 413 and leaves nothing', async () => {
    const chunks = (n: number): Readable => Readable.from(Array.from({ length: n }, () => Buffer.alloc(1000, 5)));
    const tmp = await spoolToFile(dir, chunks(10), 10_000);
    expect([basename(tmp).startsWith('.upload-'), readFileSync(tmp).length]).toEqual([true, 10_000]);
    expect(await listImages(dir)).toEqual([]); // a temporary file is never listed
    rmSync(tmp);
    await expect(spoolToFile(dir, chunks(11), 10_000)).rejects.toThrow(
      new PayloadTooLargeError('body: expected at most 10000 bytes, got more than 10000 bytes'),
    );
    expect(readdirSync(dir)).toEqual([]);
  });
});
