/**
 * `samtune predict` refuses prompts outside the image with the server's rule and message
 * (`validatePrompt` of @samtune/transforms) and exit code 2, before loading any model (issue 11).
 * The CLI runs as a child process so the exit code is the real one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../../../..');
const dir = mkdtempSync(join(tmpdir(), 'samtune-predict-prompt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ref = (f: string): string => join(repo, '..', 'shared', 'fixtures', 'sam-reference', f);

function predict(...prompt: string[]): { code: number | null; stderr: string; out: string } {
  const out = join(dir, 'mask.png');
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      join(repo, 'node_modules', 'tsx', 'dist', 'loader.mjs'),
      '--conditions=@samtune/source',
      join(repo, 'apps', 'cli', 'src', 'main.ts'),
      'predict',
      '--checkpoint',
      ref('tinyvit.pth'),
      '--image',
      ref('dog.jpg'),
      ...prompt,
      '--out',
      out,
    ],
    { cwd: repo, encoding: 'utf8', timeout: 120_000 },
  );
  return { code: r.status, stderr: r.stderr, out };
}

describe('samtune predict: prompts outside the image', () => {
  it('--point=-5,-5,1 exits 2 with the server message, writing nothing', () => {
    const r = predict('--point=-5,-5,1');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'samtune predict: points[0]: expected a point inside the 800x534 image (0 <= x <= 800, 0 <= y <= 534), got [-5, -5]',
    );
    expect(existsSync(r.out)).toBe(false);
  }, 120_000);

  it('--box 0,0,1e308,1e308 exits 2 with the server message', () => {
    const r = predict('--box', '0,0,1e308,1e308');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'samtune predict: box: expected XYXY inside the 800x534 image with 0 <= x0 < x1 <= 800 and 0 <= y0 < y1 <= 534, got [0, 0, 1e+308, 1e+308]',
    );
    expect(existsSync(r.out)).toBe(false);
  }, 120_000);
});
