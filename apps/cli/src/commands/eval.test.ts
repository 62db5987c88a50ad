import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../command.js';
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
    const defaults = parseEvalArgs(['--checkpoint', 'x', '--data-root', '/d']);
    expect([defaults.subset, defaults.crowd, defaults.clicks]).toEqual([undefined, 'keep', 0]);
    expect(parseEvalArgs(['--checkpoint', 'x', '--data-root', '/d', '--crowd', 'ignore']).crowd).toBe('ignore');
    expect(() => parseEvalArgs(['--checkpoint', 'x', '--data-root', '/d', '--crowd', 'drop'])).toThrow(
      "--crowd 'drop': expected keep or ignore",
    );
  });

  it('--out is checked before the evaluation (a bad path loses no metrics)', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    // The checkpoint does not exist: an evaluation would fail on it; the --out check comes first.
    const args = ['--checkpoint', join(dir, 'none.pth'), '--data-root', plantMini, '--out'];
    await expect(evalCommand.run([...args, dir], recordingIO())).rejects.toThrow(
      new UsageError(`--out ${dir}: is a directory, expected a file path (e.g. ${join(dir, 'labels.json')})`),
    );
    await expect(evalCommand.run([...args, join(file, 'm.json')], recordingIO())).rejects.toThrow(
      new UsageError(`--out ${join(file, 'm.json')}: '${file}' is a file, expected a directory to write into`),
    );
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
    expect(Object.keys(printed)).toEqual([
      'f1',
      'iou',
      'dice',
      'ap',
      'ap50',
      'ap75',
      'images',
      'instances',
      'crowd',
      'crowdIgnored',
      'skipped',
    ]);
    expect([printed.crowd, printed.crowdIgnored]).toEqual([0, 0]);
    expect(printed.skipped).toBe(0);
    expect(printed.images).toBe(4);
    expect(printed.instances).toBe(8);
    expect(printed.f1).toBeGreaterThanOrEqual(0);
    expect(printed.f1).toBe(printed.dice);
    const written = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    expect(written).toMatchObject({ ...printed, subset: 'valid', prompt: 'box' });
    expect(io.stderr.join('\n')).toMatch(/embeddings: 4 images, 4 computed/);

    // One command for one file (issue 23): a lone COCO file with --images is evaluated whole, no split.
    const one = recordingIO();
    const file = join(plantMini, 'valid', '_annotations.coco.json');
    const args = [
      '--checkpoint',
      referencePath('tinyvit.pth'),
      '--data-root',
      file,
      '--images',
      join(plantMini, 'valid'),
    ];
    expect(await evalCommand.run([...args, '--max-instances', '2', '--cache-dir', join(dir, 'cache')], one)).toBe(0);
    expect(one.stdout[0]).toMatch(/^tinyvit\.pth on default \(4 images, 8 instances, box prompts\):$/);
    expect(one.stderr).toContain("dataset: one subset 'default', evaluated whole (4 images)");

    // Clicks-to-quality (issue 21): NoC@85/90 and IoU@1/3/5, printed and in --json.
    const clicks = recordingIO();
    const cargs = [...args, '--max-instances', '1', '--cache-dir', join(dir, 'cache'), '--clicks', '3'];
    expect(await evalCommand.run(cargs, clicks)).toBe(0);
    expect(clicks.stdout.join('\n')).toMatch(
      /clicks \(max 3\): NoC@85 \d\.\d\d {2}NoC@90 \d\.\d\d {2}IoU@1 \d\.\d{4} {2}IoU@3 \d\.\d{4} {2}IoU@5 \d\.\d{4}/,
    );
    const json = recordingIO();
    expect(await evalCommand.run([...cargs, '--json'], json)).toBe(0);
    const c = (JSON.parse(json.stdout[0] as string) as { clicks: Record<string, number> }).clicks;
    expect(Object.keys(c)).toEqual(['noc85', 'noc90', 'iouAt1', 'iouAt3', 'iouAt5', 'instances', 'maxClicks']);
    expect([c.instances, c.maxClicks]).toEqual([4, 3]);
    for (const k of ['noc85', 'noc90'] as const) expect(c[k]! >= 1 && c[k]! <= 3).toBe(true);
    for (const k of ['iouAt1', 'iouAt3', 'iouAt5'] as const) expect(c[k]! >= 0 && c[k]! <= 1).toBe(true);
  });
});
