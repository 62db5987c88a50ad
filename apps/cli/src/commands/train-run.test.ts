/**
 * `samtune train` end to end in a child process (the worker thread of a real CLI run), on a one-subset
 * dataset in a plugin format (the README's boxes-csv adapter, `--plugin`): the plugin is loaded in the
 * worker too, the seeded split is applied and announced, the backend line appears once, `--json`
 * prints the result, and the run folder holds config.yaml, results.csv and decoder-only best/last
 * that `eval` loads through their base checkpoint — with a clear error once the base is gone.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '@samtune/tensor-files';
import { EXIT_CODE_BY_KIND } from '@samtune/errors';
import { sharedEmbeddingCacheDir } from '@samtune/test-fixtures';
import { runCli } from '../cli.js';
import { recordingIO } from '../test-utils/io.js';

const repo = resolve(import.meta.dirname, '../../../..');
const tmp = mkdtempSync(join(tmpdir(), 'samtune-train-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const plugin = join(repo, 'packages', 'datasets', 'src', 'test-utils', 'boxes-csv-plugin.mjs');
const reference = join(repo, '..', 'shared', 'fixtures', 'sam-reference', 'tinyvit.pth');

function boxesDataset(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const src = join(repo, 'examples', 'plant-mini', 'train');
  const photos = readdirSync(src)
    .filter((f) => f.endsWith('.jpg'))
    .slice(0, 2);
  for (const p of photos) copyFileSync(join(src, p), join(dir, p));
  writeFileSync(
    join(dir, 'boxes.csv'),
    ['file,label,x1,y1,x2,y2', `${photos[0]},leaf,10,10,100,100`, `${photos[1]},leaf,20,30,120,90`].join('\n'),
  );
  return dir;
}

describe('samtune train (worker thread, plugin format, one subset) and its run folder', () => {
  it('trains, writes the run folder, and eval loads best.safetensors through its base', async () => {
    const base = join(tmp, 'base.pth');
    copyFileSync(reference, base);
    const data = boxesDataset(join(tmp, 'boxes'));
    const out = join(tmp, 'run');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        join(repo, 'node_modules', 'tsx', 'dist', 'loader.mjs'),
        '--conditions=@samtune/source',
        join(repo, 'apps', 'cli', 'src', 'main.ts'),
        '--plugin',
        plugin,
        'train',
        ...['--checkpoint', base, '--data-root', data, '--out', out, '--epochs', '1', '--val-fraction', '0.5'],
        ...['--lr', '1e-4', '--cache-dir', sharedEmbeddingCacheDir(), '--json'],
      ],
      { cwd: tmp, encoding: 'utf8', timeout: 500_000 },
    );
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    const stderr = r.stderr;
    expect(stderr).toContain('plugins: dataset adapter boxes-csv');
    expect(stderr).toContain(
      "dataset: one subset 'train' (2 images): split by seed 0 into train 1 / val 1 images (data.val-fraction 0.5)",
    );
    expect(stderr.match(/tfjs backend:/g)).toHaveLength(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0] as string) as {
      epochs: number;
      best: Record<string, number>;
      zeroShot: Record<string, number>;
      files: Record<string, string>;
    };
    expect(result.epochs).toBe(1);
    expect(Object.keys(result.best)).toEqual([
      'f1',
      'iou',
      'dice',
      'ap',
      'ap50',
      'ap75',
      'loss',
      'images',
      'instances',
    ]);
    expect(result.zeroShot.instances).toBe(1);

    // the run folder
    expect(result.files.config).toBe(join(out, 'config.yaml'));
    const yaml = readFileSync(join(out, 'config.yaml'), 'utf8');
    expect(yaml).toContain('val-fraction: 0.5');
    // The worker loaded the plugin (the dataset is in its format), but the run folder names no code.
    expect(yaml).toContain('plugins: []');
    expect(yaml).not.toContain(pathToFileURL(plugin).href);
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^epoch,train_loss,.*,val_f1,.*,val_ap,.*,lr,best$/);
    expect(csv).toHaveLength(2);
    for (const f of ['best.safetensors', 'last.safetensors']) {
      const st = readSafetensors(join(out, f));
      expect(
        [...st.tensors.keys()].every((k) => k.startsWith('mask_decoder.')),
        f,
      ).toBe(true);
      expect(JSON.parse(st.metadata['samtune.base_checkpoint'] as string)).toMatchObject({ path: base });
      expect(statSync(join(out, f)).size).toBeLessThan(statSync(base).size / 2);
    }

    // eval on the same split (in-process), through the base checkpoint
    const io = recordingIO();
    const best = join(out, 'best.safetensors');
    const args = ['eval', '--checkpoint', best, '--data-root', data, '--val-fraction', '0.5', '--json'];
    expect(await runCli(['--plugin', plugin, ...args, '--cache-dir', sharedEmbeddingCacheDir()], io)).toBe(0);
    const m = JSON.parse(io.stdout[0] as string) as Record<string, number>;
    expect(Object.keys(m)).toEqual([
      ...['f1', 'iou', 'dice', 'ap', 'ap50', 'ap75', 'images', 'instances'],
      ...['crowd', 'crowdIgnored', 'skipped'],
    ]);
    expect(m.f1).toBeCloseTo(result.best.f1 as number, 4);

    rmSync(base);
    const gone = recordingIO();
    expect(await runCli(['--plugin', plugin, ...args, '--cache-dir', sharedEmbeddingCacheDir()], gone)).toBe(
      EXIT_CODE_BY_KIND['not-found'],
    );
    expect(gone.stderr.join('\n')).toMatch(
      /samtune eval: \S*best\.safetensors: this file holds only the \d+ fine-tuned tensors; its base checkpoint \(sha256 [0-9a-f]{64}\) was not found/,
    );
  }, 600_000);
});
