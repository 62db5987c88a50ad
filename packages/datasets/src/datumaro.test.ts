import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset } from './registry.js';
import { encodeRleString } from './rle.js';
import { datumaroFixture } from './test-utils/fixtures.js';
import { rgbImagePng } from './test-utils/png-writer.js';
import { countOnes, makeDataset, removeDataset } from './test-utils/tmp-dataset.js';

const temp: string[] = [];
afterAll(() => temp.forEach(removeDataset));

describe('Datumaro fixture (datumaro-formats/datumaro_dataset/legacy)', () => {
  it('loads the exact items, labels and (no) instances of its files', async () => {
    const root = datumaroFixture('datumaro_dataset/legacy');
    const ds = await loadDataset(root);
    expect(ds.format).toBe('datumaro');
    expect(ds.skipped).toEqual([]);
    expect(ds.labels).toEqual([
      { id: 0, name: 'car' },
      { id: 1, name: 'bicycle' },
      { id: 2, name: 'tom' },
      { id: 3, name: 'mary' },
    ]);
    // Only image-level `label` annotations: items without instances. Sizes from the image headers.
    const rows = Object.entries(ds.subsets).flatMap(([s, items]) =>
      items.map((i) => [s, i.id, i.imagePath.slice(root.length), i.width, i.height, i.instances.length]),
    );
    expect(rows).toEqual([
      ['test', 'c', '/images/test/c.jpg', 6, 8, 0],
      ['train', 'a', '/images/train/a.jpg', 6, 8, 0],
      ['train', 'b', '/images/train/b.jpg', 8, 2, 0],
      ['validation', 'd', '/images/validation/d.jpg', 8, 2, 0],
    ]);
  });
});

describe('Datumaro shapes: polygon, mask (RLE), bbox, points, groups (temp dataset)', () => {
  it('builds instances and keypoints by group', async () => {
    // (H,W)=(4,6). RLE column-major: 4 zeros, 4 ones (column 1), 16 zeros -> 4 pixels.
    const rle = { counts: encodeRleString([4, 4, 16]), size: [4, 6] };
    const doc = {
      categories: {
        label: {
          labels: [
            { name: 'cat', parent: '' },
            { name: 'dog', parent: '' },
          ],
          attributes: [],
        },
      },
      items: [
        {
          id: 'x',
          image: { path: 'x.png', size: [4, 6] },
          annotations: [
            { id: 0, type: 'label', label_id: 1, group: 0 },
            {
              id: 1,
              type: 'polygon',
              label_id: 0,
              group: 1,
              points: [0, 0, 2, 0, 2, 2, 0, 2],
              attributes: { occluded: true },
            },
            { id: 2, type: 'bbox', label_id: 0, group: 1, bbox: [0, 0, 2.5, 2] },
            { id: 3, type: 'points', label_id: 0, group: 1, points: [1, 1, 1.5, 0.5] },
            { id: 4, type: 'mask', label_id: 1, group: 0, rle },
            { id: 5, type: 'bbox', label_id: 1, group: 0, bbox: [3, 1, 3, 3] },
            { id: 6, type: 'points', label_id: 1, group: 0, points: [5, 3] },
            { id: 7, type: 'polyline', label_id: 1, points: [0, 0, 1, 1] },
          ],
        },
      ],
    };
    const root = makeDataset({ 'annotations/train.json': doc, 'images/train/x.png': rgbImagePng(6, 4) });
    temp.push(root);
    const ds = await loadDataset(root);
    expect(ds.format).toBe('datumaro');
    expect(ds.skipped).toEqual([]);
    const insts = ds.subsets.train?.[0]?.instances ?? [];
    expect(insts.map((i) => [i.id, i.label.name, i.box, i.maskSource])).toEqual([
      ['1', 'cat', [0, 0, 2.5, 2], 'polygon'],
      ['4', 'dog', [1, 0, 2, 4], 'rle'],
      ['5', 'dog', [3, 1, 6, 4], 'box'],
    ]);
    expect(insts[0]?.points).toEqual([
      [1, 1],
      [1.5, 0.5],
    ]);
    expect(insts[0]?.attributes).toEqual({ occluded: true });
    expect(insts[1]?.points).toBeUndefined();
    expect(await Promise.all(insts.map(async (i) => countOnes((await i.mask()).data)))).toEqual([4, 4, 9]);
  });
});
