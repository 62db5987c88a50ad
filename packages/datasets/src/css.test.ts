import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset } from './registry.js';
import { datumaroFixture } from './test-utils/fixtures.js';
import { encodePng, grayMaskPng, rgbImagePng } from './test-utils/png-writer.js';
import { countOnes, makeDataset, removeDataset } from './test-utils/tmp-dataset.js';

const temp: string[] = [];
afterAll(() => temp.forEach(removeDataset));

describe('CSS fixture (datumaro-formats/common_semantic_segmentation_dataset/dataset)', () => {
  it('loads the exact items, labels, boxes and mask pixel counts of its files', async () => {
    const root = datumaroFixture('common_semantic_segmentation_dataset/dataset');
    const ds = await loadDataset(root);
    expect(ds.format).toBe('css');
    expect(ds.skipped).toEqual([]);
    // label_map 0..5 with background_label "0" (Void): Void is not an instance label.
    expect(ds.labels).toEqual([
      { id: 1, name: 'Animal' },
      { id: 2, name: 'Archway' },
      { id: 3, name: 'Bicyclist' },
      { id: 4, name: 'Child' },
      { id: 5, name: 'Road' },
    ]);
    expect(Object.keys(ds.subsets)).toEqual(['default']);
    const [i1, i2] = ds.subsets.default ?? [];
    // masks/0001.png (5x1): Bicyclist Bicyclist Road Bicyclist Bicyclist -> 2 Bicyclist components + 1 Road.
    expect(i1).toMatchObject({ id: '0001', width: 5, height: 1, imagePath: `${root}/images/0001.png` });
    const rows1 = await Promise.all(
      (i1?.instances ?? []).map(async (i) => [i.id, i.label.name, i.box, countOnes((await i.mask()).data)]),
    );
    expect(rows1).toEqual([
      ['cc1', 'Bicyclist', [0, 0, 2, 1], 2],
      ['cc2', 'Road', [2, 0, 3, 1], 1],
      ['cc3', 'Bicyclist', [3, 0, 5, 1], 2],
    ]);
    // masks/0002.png: Animal x3, Child x2.
    expect(i2).toMatchObject({ id: '0002', width: 5, height: 1 });
    const rows2 = await Promise.all(
      (i2?.instances ?? []).map(async (i) => [i.label.name, i.box, countOnes((await i.mask()).data)]),
    );
    expect(rows2).toEqual([
      ['Animal', [0, 0, 3, 1], 3],
      ['Child', [3, 0, 5, 1], 2],
    ]);
    expect((await i2?.instances[1]?.mask())?.data).toEqual(new Uint8Array([0, 0, 0, 1, 1]));
  });
});

describe('CSS index masks, ignore labels and subset folders (temp datasets)', () => {
  it('treats background, 255 and ignore_labels as non-instances, per subset folder', async () => {
    const meta = { label_map: { '0': 'background', '1': 'cell', '2': 'debris' }, ignore_label: 2 };
    const mask = grayMaskPng([
      [1, 0, 0, 1],
      [0, 1, 255, 0],
      [2, 2, 0, 1],
    ]);
    const root = makeDataset({
      'train/dataset_meta.json': meta,
      'train/images/a.png': rgbImagePng(4, 3),
      'train/masks/a.png': mask,
      'val/dataset_meta.json': meta,
      'val/images/b.png': rgbImagePng(4, 3),
      'val/masks/b.png': grayMaskPng([
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
      ]),
    });
    temp.push(root);
    const ds = await loadDataset(root);
    expect(ds.format).toBe('css');
    expect(ds.labels).toEqual([{ id: 1, name: 'cell' }]);
    expect(Object.keys(ds.subsets)).toEqual(['train', 'val']);
    const insts = ds.subsets.train?.[0]?.instances ?? [];
    // 8-connectivity: (0,0) and (1,1) touch diagonally -> one cell; (3,0) alone; (3,2) alone.
    expect(insts.map((i) => [i.label.name, i.box, i.attributes.area])).toEqual([
      ['cell', [0, 0, 2, 2], 2],
      ['cell', [3, 0, 4, 1], 1],
      ['cell', [3, 2, 4, 3], 1],
    ]);
    expect(Array.from((await insts[0]?.mask())?.data ?? [])).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(ds.subsets.val?.[0]?.instances).toEqual([]);
  });

  it('reads palette masks through segmentation_colors', async () => {
    const root = makeDataset({
      'dataset_meta.json': {
        labels: ['bg', 'a', 'b'],
        segmentation_colors: [
          [0, 0, 0],
          [10, 20, 30],
          [40, 50, 60],
        ],
        background_label: '0',
      },
      'images/x.png': rgbImagePng(3, 1),
      // Palette order differs from the label order: palette index 0 = b's colour, 1 = bg, 2 = a.
      'masks/x.png': encodePng({
        width: 3,
        height: 1,
        colorType: 3,
        data: [2, 1, 0],
        palette: [40, 50, 60, 0, 0, 0, 10, 20, 30],
      }),
    });
    temp.push(root);
    const ds = await loadDataset(root, { format: 'css' });
    expect(ds.subsets.default?.[0]?.instances.map((i) => [i.label.name, i.box])).toEqual([
      ['a', [0, 0, 1, 1]],
      ['b', [2, 0, 3, 1]],
    ]);
  });
});
