/**
 * `samtune train` and the recipe flags (issue 12): `--help` lists `--loss.resolution` and
 * `--prompt.iterations`, they parse through the dotted overrides, and the default ort engine runs them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { recordingIO } from '../test-utils/io.js';
import { parseTrainArgs } from './train-args.js';

const base = ['--checkpoint', 'tiny_vit', '--data-root', '/nonexistent/data', '--out', '/nonexistent/runs/x'];
const tmp = mkdtempSync(join(tmpdir(), 'samtune-train-recipe-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('samtune train: loss.resolution and prompt.iterations', () => {
  it('--help lists both flags', async () => {
    const io = recordingIO();
    expect(await runCli(['train', '--help'], io)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toContain('--loss.resolution lowres|original');
    expect(text).toContain('--prompt.iterations <n>');
  });

  it('parse into loss.resolution and prompt.iterations with --engine tfjs', () => {
    const { config } = parseTrainArgs([
      ...base,
      '--engine',
      'tfjs',
      '--loss.resolution',
      'original',
      '--prompt.iterations',
      '2',
    ]);
    expect([config.loss.resolution, config.prompt.iterations, config.runtime.engine]).toEqual(['original', 2, 'tfjs']);
    expect(parseTrainArgs(base).config.loss.resolution).toBe('lowres');
  });

  it('the ort engine (default) takes them: the run gets past the config to the data root', async () => {
    const io = recordingIO();
    // A real, fresh --out: the run must get past the run folder and the config to the data root.
    const out = join(tmp, 'run');
    const argv = [...base.slice(0, 4), '--out', out, '--prompt.iterations', '1', '--no-worker'];
    const code = await runCli(['train', ...argv], io);
    expect(code).not.toBe(0);
    expect(io.stderr.join('\n')).not.toContain('RecipeUnsupportedError');
    expect(io.stderr.join('\n')).toContain('/nonexistent/data');
  });

  it('a bad value is a usage error naming the key', () => {
    expect(() => parseTrainArgs([...base, '--engine', 'tfjs', '--loss.resolution', 'full'])).toThrow(
      `config 'loss.resolution': expected lowres or original, got "full"`,
    );
  });
});
