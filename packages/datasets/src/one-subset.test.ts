/**
 * Real-world one-subset exports (issue 12): a CSS folder and a Datumaro export with one subset are
 * split by seed when asked; a COCO instances JSON file is a dataset too, with its images elsewhere.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetFormatError } from './errors.js';
import { loadDataset } from './registry.js';
import { datumaroFixture } from './test-utils/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-one-subset-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const sizes = (s: Record<string, readonly unknown[]>): Record<string, number> =>
  Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.length]));

describe('one-subset datasets', () => {
  it('splits the CSS fixture (one default subset of 2 images) into train 1 / val 1, by seed', async () => {
    const root = datumaroFixture('common_semantic_segmentation_dataset/dataset');
    expect(sizes((await loadDataset(root)).subsets)).toEqual({ default: 2 });
    const a = await loadDataset(root, { split: { val: 0.5, seed: 0 } });
    const b = await loadDataset(root, { split: { val: 0.5, seed: 0 } });
    expect(sizes(a.subsets)).toEqual({ train: 1, val: 1 });
    expect(a.subsets.val?.map((i) => i.id)).toEqual(b.subsets.val?.map((i) => i.id));
    expect(a.subsets.val?.[0]?.subset).toBe('val');
  });

  it('splits a Datumaro export with one subset and leaves a three-subset one alone', async () => {
    const legacy = datumaroFixture('datumaro_dataset/legacy');
    const three = await loadDataset(legacy, { split: { val: 0.5 } });
    expect(Object.keys(three.subsets).sort()).toEqual(['test', 'train', 'validation']);
    const one = join(tmp, 'datumaro-one');
    cpSync(join(legacy, 'annotations', 'train.json'), join(one, 'annotations', 'default.json'));
    // item paths are relative to images/<subset>/ and start with train/
    cpSync(join(legacy, 'images'), join(one, 'images', 'default'), { recursive: true });
    const plain = await loadDataset(one);
    expect(plain.format).toBe('datumaro');
    expect(Object.keys(plain.subsets)).toEqual(['default']);
    const n = plain.subsets.default?.length ?? 0;
    expect(n).toBe(2);
    const split = await loadDataset(one, { split: { val: 0.5, seed: 3 } });
    expect((split.subsets.train?.length ?? 0) + (split.subsets.val?.length ?? 0)).toBe(n);
    expect(split.subsets.val?.length).toBe(Math.round(n * 0.5));
  });

  it('reads a COCO JSON file given as the dataset, with --images pointing at the images', async () => {
    const root = datumaroFixture('coco_dataset/coco_instances');
    const file = join(root, 'annotations', 'instances_train.json');
    const ds = await loadDataset(file, { images: join(root, 'images', 'train') });
    expect(ds.format).toBe('coco');
    expect(sizes(ds.subsets)).toEqual({ train: 1 });
    expect(ds.subsets.train?.[0]?.imagePath).toBe(join(root, 'images', 'train', 'a.jpg'));
    expect(ds.skipped).toEqual([]);
    // without --images, an annotations/ folder's file also looks in ../<subset>/, ../images/<subset>/, ../images/
    const beside = await loadDataset(file);
    expect(beside.subsets.train?.[0]?.imagePath).toBe(join(root, 'images', 'train', 'a.jpg'));
    expect(beside.skipped).toEqual([]);
    // a file named otherwise is the 'default' subset (e.g. autolabel's labels.json next to the images)
    const labels = join(tmp, 'labels.json');
    cpSync(file, labels);
    cpSync(join(root, 'images', 'train', 'a.jpg'), join(tmp, 'a.jpg'));
    expect(sizes((await loadDataset(labels)).subsets)).toEqual({ default: 1 });
    await expect(loadDataset(labels, { format: 'voc' })).rejects.toThrow(DatasetFormatError);
  });
});
