import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { recordingIO, referencePath } from '../test-utils/io.js';
import { evalCommand, parseEvalArgs } from './eval.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-eval-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const plantMini = resolve(fileURLToPath(import.meta.url), '../../../../../examples/plant-mini');

describe('samtune eval', () => {
  it('parses flags and rejects bad ones', () => {
    const a = parseEvalArgs(['--checkpoint', 'tiny_vit', '--data-root', '/d', '--subset', 'test', '--json']);
    expect(a).toMatchObject({
      checkpoint: 'tiny_vit',
      'data-root': '/d',
      subset: 'test',
      json: true,
      prompt: 'box',
      'max-instances': 0,
      format: 'auto',
    });
    expect(() => parseEvalArgs(['--data-root', '/d'])).toThrow(/missing required flag --checkpoint/);
    expect(() => parseEvalArgs(['--checkpoint', 'x', '--data-root', '/d', '--prompt', 'both'])).toThrow(
      "--prompt 'both': expected box or point",
    );
    expect(() => parseEvalArgs(['--checkpoint', 'x', '--data-root', '/d', '--max-instances', '-1'])).toThrow(
      "--max-instances '-1': expected an integer >= 0",
    );
    expect(() => parseEvalArgs(['--checkpoint', 'x', '--data-root', '/d', '--bogus'])).toThrow(/bogus/);
  });

  it('evaluates a checkpoint zero-shot and prints {"f1","iou","dice","images","instances"} with --json', async () => {
    expect(existsSync(plantMini), plantMini).toBe(true);
    const io = recordingIO();
    const out = join(dir, 'metrics.json');
    const code = await evalCommand.run(
      [
        '--checkpoint',
        referencePath('tinyvit.pth'),
        '--data-root',
        plantMini,
        '--max-instances',
        '2',
        '--json',
        '--out',
        out,
        '--cache-dir',
        join(dir, 'cache'),
      ],
      io,
    );
    expect(code).toBe(0);
    expect(io.stdout).toHaveLength(1);
    const printed = JSON.parse(io.stdout[0] as string) as Record<string, number>;
    expect(Object.keys(printed)).toEqual(['f1', 'iou', 'dice', 'ap', 'ap50', 'ap75', 'images', 'instances', 'skipped']);
    expect(printed.skipped).toBe(0);
    expect(printed.images).toBe(4);
    expect(printed.instances).toBe(8);
    expect(printed.f1).toBeGreaterThanOrEqual(0);
    expect(printed.f1).toBe(printed.dice);
    const written = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    expect(written).toMatchObject({ ...printed, subset: 'valid', prompt: 'box' });
    expect(io.stderr.join('\n')).toMatch(/embeddings: 4 images, 4 computed/);
  });
});
