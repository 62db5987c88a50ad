import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileAtomicAsync } from './fs-atomic.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('writes strings, bytes and chunks, creating folders and leaving no temp file', () => {
    writeFileAtomic(join(dir, 'a', 'b.txt'), 'héllo');
    expect(readFileSync(join(dir, 'a', 'b.txt'), 'utf8')).toBe('héllo');
    writeFileAtomic(join(dir, 'c.bin'), [new Uint8Array([1, 2]), new Uint8Array([3])]);
    expect([...readFileSync(join(dir, 'c.bin'))]).toEqual([1, 2, 3]);
    writeFileAtomic(join(dir, 'c.bin'), new Uint8Array([9]));
    expect([...readFileSync(join(dir, 'c.bin'))]).toEqual([9]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps the old file and removes the temp file when writing fails', () => {
    writeFileAtomic(join(dir, 'keep.txt'), 'old');
    const failing = (function* () {
      yield new Uint8Array([1]);
      throw new Error('disk full');
    })();
    expect(() => writeFileAtomic(join(dir, 'keep.txt'), failing)).toThrow('disk full');
    expect(readFileSync(join(dir, 'keep.txt'), 'utf8')).toBe('old');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(join(dir, 'keep.txt'))).toBe(true);
  });

  it('has an async variant with the same contract (folders created, old file kept on failure)', async () => {
    await writeFileAtomicAsync(join(dir, 'x', 'y.json'), '{"a":1}');
    expect(readFileSync(join(dir, 'x', 'y.json'), 'utf8')).toBe('{"a":1}');
    await writeFileAtomicAsync(join(dir, 'keep-async.txt'), 'old');
    // a directory where the target should go: the rename fails, the temp file is removed
    await expect(writeFileAtomicAsync(join(dir, 'x'), 'new')).rejects.toThrow();
    expect(readFileSync(join(dir, 'keep-async.txt'), 'utf8')).toBe('old');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
