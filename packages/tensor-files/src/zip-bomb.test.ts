/**
 * Checkpoint bombs (issue 11): a 1 MB `.pth` whose `data.pkl` inflates to 1 GiB, once with an honest
 * central directory (refused from the declared size, before inflating) and once with a header that
 * lies (declares 100 bytes: inflation stops there). Each is read in a child process whose peak RSS is
 * measured: it must stay far below the 1 GiB the entry would inflate to.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deflatedZeros } from './test-utils/bombs.js';
import { MAX_PICKLE_BYTES } from './torch.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-bomb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const BOMB_BYTES = 1 << 30;

/** A one-entry zip `archive/data.pkl` (deflate) whose headers declare `declared` bytes uncompressed. */
function bombZip(body: Buffer, declared: number): Buffer {
  const name = Buffer.from('archive/data.pkl');
  const lh = Buffer.alloc(30);
  lh.writeUInt32LE(0x04034b50, 0);
  lh.writeUInt16LE(8, 8);
  lh.writeUInt32LE(body.length, 18);
  lh.writeUInt32LE(declared, 22);
  lh.writeUInt16LE(name.length, 26);
  const ch = Buffer.alloc(46);
  ch.writeUInt32LE(0x02014b50, 0);
  ch.writeUInt16LE(8, 10);
  ch.writeUInt32LE(body.length, 20);
  ch.writeUInt32LE(declared, 24);
  ch.writeUInt16LE(name.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + name.length, 12);
  end.writeUInt32LE(30 + name.length + body.length, 16);
  return Buffer.concat([lh, name, body, ch, name, end]);
}

function readInChild(path: string): { ok: boolean; error?: string; message?: string; maxRssMiB: number } {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--conditions=@samtune/source', join(import.meta.dirname, 'test-utils', 'read-child.ts'), path],
    { encoding: 'utf8', timeout: 120_000 },
  );
  return JSON.parse(out.trim().split('\n').pop() as string) as ReturnType<typeof readInChild>;
}

describe('checkpoint zip bombs: sizes checked before inflating, bounded memory', () => {
  let body: Buffer;
  beforeAll(async () => {
    body = await deflatedZeros(BOMB_BYTES);
  });

  it('a data.pkl declaring 1 GiB is refused from its declared size', () => {
    expect(body.length).toBeLessThan(2 << 20);
    const path = join(dir, 'honest-bomb.pth');
    writeFileSync(path, bombZip(body, BOMB_BYTES));
    const r = readInChild(path);
    expect(r.ok).toBe(false);
    expect(r.error).toBe('ZipFormatError');
    expect(r.message).toBe(
      `ZipArchive.read(${path}): entry 'archive/data.pkl' declares ${BOMB_BYTES} bytes uncompressed, expected at most ${MAX_PICKLE_BYTES}`,
    );
    expect(r.maxRssMiB).toBeLessThan(400);
  }, 60_000);

  it('a data.pkl whose header lies (100 bytes) stops inflating at the declared size', () => {
    const path = join(dir, 'lying-bomb.pth');
    writeFileSync(path, bombZip(body, 100));
    const r = readInChild(path);
    expect(r.ok).toBe(false);
    expect(r.error).toBe('ZipFormatError');
    expect(r.message).toBe(
      `ZipArchive.read(${path}): 'archive/data.pkl' inflates past its declared size of 100 bytes (lying header or zip bomb)`,
    );
    expect(r.maxRssMiB).toBeLessThan(400);
  }, 60_000);

  it('a declared size beyond deflate ratio or compressed data past the end of the file is refused', () => {
    const small = Buffer.alloc(1000);
    const ratio = join(dir, 'ratio.pth');
    writeFileSync(ratio, bombZip(small, 32 << 20));
    expect(readInChild(ratio).message).toContain(
      "entry 'archive/data.pkl' declares 33554432 bytes from 1000 compressed, beyond deflate's maximum ratio 1032:1",
    );
    const cut = join(dir, 'cut.pth');
    const zip = bombZip(body.subarray(0, 4096), 4096);
    zip.writeUInt32LE(0x7fffffff, 18); // local header: irrelevant, the central directory is read
    const cd = zip.length - 22 - 46 - 16;
    zip.writeUInt32LE(0x7fffffff, cd + 20);
    writeFileSync(cut, zip);
    expect(readInChild(cut).message).toContain(
      `entry 'archive/data.pkl' declares ${0x7fffffff} compressed bytes from byte 46, but the file ends at byte ${zip.length}`,
    );
  }, 60_000);
});
