/**
 * `data.val.root` (`--val-data-root`): validation reads a dataset of its own, like `data.root`, and
 * `data.root` is not split (its only subset trains whole). On plant-mini: its `train` COCO file (6
 * images) trains, its `valid` folder (4 images) validates; without it the same file is split by seed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SubsetError } from '@samtune/evaluation';
import { applyOverride, configKeys, defaultTrainConfig, type TrainConfig } from './config.js';
import type { TrainEvent } from './events.js';
import { prepareData, type Run } from './run-setup.js';
import { repoPath } from './test-utils/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-val-root-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A run of `config` that only records its events (prepareData reads no run folder). */
function fakeRun(config: TrainConfig, events: TrainEvent[]): Run {
  const out = join(tmp, 'out');
  return { out, files: {} as Run['files'], config, emit: (e) => events.push(e), stopAt: () => undefined };
}

const trainFile = repoPath('examples/plant-mini/train/_annotations.coco.json');

describe('data.val.root', () => {
  it('is a flag and a dotted key, default empty', () => {
    const c = defaultTrainConfig();
    expect([c.data.val.root, c.data.val.images]).toEqual(['', '']);
    const flags = Object.fromEntries(configKeys().map((k) => [k.schema.flag, k.key]));
    expect([flags['val-data-root'], flags['val-images']]).toEqual(['data.val.root', 'data.val.images']);
    applyOverride(c, 'data.val.root', 'v.json');
    expect(c.data.val.root).toBe('v.json');
  });

  it('validates on its own dataset; the training file trains whole', async () => {
    const c = defaultTrainConfig();
    c.data.root = trainFile;
    c.data.val.root = repoPath('examples/plant-mini/valid');
    const events: TrainEvent[] = [];
    const data = await prepareData(fakeRun(c, events));
    expect([data.train.items.length, data.val.items.length]).toEqual([6, 4]);
    expect(data.val.items.every((i) => i.imagePath.includes('/valid/'))).toBe(true);
    const ds = events.find((e) => e.type === 'dataset') as Extract<TrainEvent, { type: 'dataset' }>;
    expect(ds).toMatchObject({ train: 6, val: 4, valRoot: c.data.val.root });
    expect(ds.split).toBeUndefined();

    c.data.val.root = '';
    const split = await prepareData(fakeRun(c, []));
    expect(split.train.items.length + split.val.items.length).toBe(6);
  });

  it('a validation dataset without the named subset stops with a named error', async () => {
    const c = defaultTrainConfig();
    c.data.root = trainFile;
    c.data.val.root = repoPath('examples/plant-mini');
    c.data.val.subset = 'test';
    await expect(prepareData(fakeRun(c, []))).rejects.toThrow(SubsetError);
  });
});
