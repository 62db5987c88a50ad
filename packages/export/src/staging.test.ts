import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeStaged } from './staging.js';
import { tempDir } from './test-utils/fixtures.js';

const root = tempDir('staging');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('writeStaged', () => {
  it('publishes a new folder with the mode of any folder made with the umask (not 0700)', async () => {
    const plain = join(root, 'plain');
    mkdirSync(plain); // 0777 & ~umask
    const target = join(root, 'new-export');
    const { result, target: t } = await writeStaged(target, 'test(dir)', 'config.json', async (staging) => {
      writeFileSync(join(staging, 'config.json'), '{}');
      return 7;
    });
    expect([result, t]).toEqual([7, target]);
    expect(statSync(target).mode & 0o777).toBe(statSync(plain).mode & 0o777);
    expect(statSync(target).mode & 0o077).not.toBe(0); // group/other bits kept (umask 022/002)
    expect(readdirSync(target)).toEqual(['config.json']);
  });

  it('merges into an existing folder, sub-folders included, keeping other files', async () => {
    const target = join(root, 'existing');
    mkdirSync(join(target, 'onnx'), { recursive: true });
    writeFileSync(join(target, 'onnx', 'old.onnx'), 'old');
    writeFileSync(join(target, 'notes.txt'), 'mine');
    await writeStaged(target, 'test(dir)', 'config.json', async (staging) => {
      mkdirSync(join(staging, 'onnx'));
      writeFileSync(join(staging, 'onnx', 'new.onnx'), 'new');
      writeFileSync(join(staging, 'config.json'), '{}');
    });
    expect(readdirSync(target).sort()).toEqual(['config.json', 'notes.txt', 'onnx']);
    expect(readdirSync(join(target, 'onnx')).sort()).toEqual(['new.onnx', 'old.onnx']);
    expect(readFileSync(join(target, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readdirSync(root).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('a failed write leaves neither the target nor the staging folder', async () => {
    const target = join(root, 'failed');
    await expect(
      writeStaged(target, 'test(dir)', 'config.json', async (staging) => {
        writeFileSync(join(staging, 'half.onnx'), 'x');
        throw new Error('verification failed');
      }),
    ).rejects.toThrow('verification failed');
    expect(readdirSync(root).filter((n) => n.startsWith('.') || n === 'failed')).toEqual([]);
  });
});
