import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { containedPath, PathOutsideFolderError } from './fs-contained.js';

const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'samtune-contained-')));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const root = join(tmp, 'model');
mkdirSync(join(root, 'sub'), { recursive: true });
writeFileSync(join(root, 'decoder.onnx'), 'x');
writeFileSync(join(tmp, 'secret.txt'), 'secret');
symlinkSync(join(tmp, 'secret.txt'), join(root, 'link.onnx'));
symlinkSync(tmp, join(root, 'up'));
execFileSync('mkfifo', [join(root, 'fifo.onnx')]);
const what = 'test(dir): models.decoder.file';

describe('containedPath', () => {
  it('returns the real path of a regular file inside the folder', () => {
    expect(containedPath(root, 'decoder.onnx', { what })).toBe(join(root, 'decoder.onnx'));
    expect(containedPath(root, 'sub/../decoder.onnx', { what })).toBe(join(root, 'decoder.onnx'));
    expect(containedPath(root, 'sub/new/out.json', { what, mode: 'write' })).toBe(join(root, 'sub/new/out.json'));
  });

  it('refuses escapes, absolute paths, symlinks out, FIFOs, devices and folders, naming what and why', () => {
    const cases: [string, string, 'read' | 'write'][] = [
      ['../secret.txt', `it resolves to ${join(tmp, 'secret.txt')}`, 'read'],
      ['/dev/zero', 'it resolves to /dev/zero', 'read'],
      ['link.onnx', `a symbolic link leads to ${join(tmp, 'secret.txt')}`, 'read'],
      ['up/secret.txt', `a symbolic link leads to ${join(tmp, 'secret.txt')}`, 'read'],
      ['up/new.json', `a symbolic link leads to ${join(tmp, 'new.json')}`, 'write'],
      ['fifo.onnx', 'it is not a regular file (FIFO, device or socket)', 'read'],
      ['sub', 'it is a directory', 'read'],
      ['missing.onnx', 'missing', 'read'],
      ['', 'not a file name', 'read'],
    ];
    for (const [name, why, mode] of cases) {
      const err = (() => {
        try {
          containedPath(root, name, { what, mode });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(PathOutsideFolderError);
      expect((err as Error).message).toBe(`${what}: expected a file inside ${root}, got '${name}' (${why})`);
    }
  });

  it('accepts names under a folder reached through a symlinked ancestor, as given or as realpath', () => {
    const linked = join(tmp, 'linked');
    symlinkSync(tmp, linked);
    const viaLink = join(linked, 'model');
    const real = join(root, 'decoder.onnx');
    expect(containedPath(viaLink, 'decoder.onnx', { what })).toBe(real);
    expect(containedPath(viaLink, join(viaLink, 'decoder.onnx'), { what })).toBe(real);
    expect(containedPath(viaLink, real, { what })).toBe(real);
    expect(() => containedPath(viaLink, join(linked, 'secret.txt'), { what })).toThrow(
      `got '${join(linked, 'secret.txt')}' (it resolves to ${join(linked, 'secret.txt')})`,
    );
    expect(() => containedPath(viaLink, join(viaLink, 'link.onnx'), { what })).toThrow('a symbolic link leads to');
  });
});
