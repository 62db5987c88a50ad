import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  AdapterRegistrationError,
  DatasetError,
  DatasetFormatError,
  InvalidBoxError,
  UnknownCategoryError,
} from './errors.js';
import type { DatasetAdapter } from './adapter.js';
import type { DatasetItem, DatasetLabel } from './model.js';
import {
  BUILTIN_FORMATS,
  detectDatasetFormats,
  listDatasetAdapters,
  loadDataset,
  registerDatasetAdapter,
  unregisterDatasetAdapter,
} from './registry.js';
import { boxMask, checkBox } from './shapes.js';
import { datumaroFixture } from './test-utils/fixtures.js';
import { rgbImagePng } from './test-utils/png-writer.js';
import { countOnes, makeDataset, removeDataset } from './test-utils/tmp-dataset.js';

const temp: string[] = [];
afterAll(() => temp.forEach(removeDataset));
afterEach(() => {
  unregisterDatasetAdapter('boxes-csv');
});

// The worked example of the README, verbatim: `boxes.csv` lines `file,label,x1,y1,x2,y2` next to the images.
const boxesCsv: DatasetAdapter = {
  name: 'boxes-csv',
  detect: async (root) => (await readFile(join(root, 'boxes.csv'), 'utf8').catch(() => '')).startsWith('file,label'),
  async load(root, ctx) {
    const file = join(root, 'boxes.csv');
    const rows = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const names = [...new Set(rows.map((r) => r[1] ?? ''))].sort();
    const labels: DatasetLabel[] = names.map((name, id) => ({ id, name }));
    const items: DatasetItem[] = [];
    for (const fileName of [...new Set(rows.map((r) => r[0] ?? ''))]) {
      const loc = { reader: 'boxes-csv', file, subset: 'train', itemId: fileName };
      const imagePath = await ctx.containedPath([root], fileName, loc, 'file'); // reports ../, /abs, symlinks out
      const size = imagePath && (await ctx.checkImage(imagePath, loc)); // reports missing/unreadable images
      if (!imagePath || !size) continue;
      const instances = [];
      for (const [i, r] of rows.entries()) {
        if (r[0] !== fileName) continue;
        try {
          const label = labels.find((l) => l.name === r[1]);
          if (!label) throw new UnknownCategoryError({ ...loc, annotationId: `row ${i + 2}` }, r[1] ?? '', names);
          const box = checkBox(r.slice(2, 6).map(Number), size, { ...loc, annotationId: `row ${i + 2}` });
          instances.push({
            id: `row${i + 2}`,
            label,
            box,
            iscrowd: false,
            maskSource: 'box' as const,
            attributes: {},
            mask: () => boxMask(box, size.width, size.height),
          });
        } catch (err) {
          if (err instanceof DatasetError)
            ctx.report(err); // skipped and counted, or thrown when strict
          else throw err;
        }
      }
      items.push({ id: fileName, subset: 'train', imagePath, ...size, instances });
    }
    return { labels, items };
  },
};

describe('adapter registry', () => {
  it('runs the README worked example: register, auto-detect, load, report bad rows', async () => {
    const root = makeDataset({
      'boxes.csv':
        'file,label,x1,y1,x2,y2\na.png,cat,0,0,2,2\na.png,dog,1,1,4,3\nb.png,cat,0,0,1,1\na.png,cat,3,3,3,3\n',
      'a.png': rgbImagePng(4, 3),
    });
    temp.push(root);
    registerDatasetAdapter(boxesCsv);
    expect(await detectDatasetFormats(root)).toEqual(['boxes-csv']);
    const ds = await loadDataset(root);
    expect(ds.format).toBe('boxes-csv');
    expect(ds.labels).toEqual([
      { id: 0, name: 'cat' },
      { id: 1, name: 'dog' },
    ]);
    const a = ds.subsets.train?.[0];
    expect(a).toMatchObject({ id: 'a.png', width: 4, height: 3 });
    expect(a?.instances.map((i) => [i.label.name, i.box])).toEqual([
      ['cat', [0, 0, 2, 2]],
      ['dog', [1, 1, 4, 3]],
    ]);
    expect(countOnes((await a!.instances[1]!.mask()).data)).toBe(6);
    expect(ds.skipped.map((s) => [s.error.name, s.itemId])).toEqual([
      ['InvalidBoxError', 'a.png'],
      ['MissingImageError', 'b.png'],
    ]);
    await expect(loadDataset(root, { strict: true })).rejects.toBeInstanceOf(DatasetError);
  });

  it('tries registered adapters before the built-ins, and validates registrations', async () => {
    const claimsAll: DatasetAdapter = {
      name: 'boxes-csv',
      detect: () => true,
      load: async () => ({ labels: [], items: [] }),
    };
    registerDatasetAdapter(claimsAll);
    expect(listDatasetAdapters().map((a) => a.name)).toEqual(['boxes-csv', ...BUILTIN_FORMATS]);
    expect((await loadDataset(datumaroFixture('coco_dataset/coco_instances'))).format).toBe('boxes-csv');
    expect((await loadDataset(datumaroFixture('coco_dataset/coco_instances'), { format: 'coco' })).format).toBe('coco');
    expect(() => registerDatasetAdapter(claimsAll)).toThrow(AdapterRegistrationError);
    expect(() => registerDatasetAdapter({ ...claimsAll, name: 'coco' })).toThrow(/already exists/);
    expect(() => registerDatasetAdapter({ ...claimsAll, name: 'auto' })).toThrow(/not 'auto'/);
    expect(() => registerDatasetAdapter({ name: 'x', detect: 1 } as unknown as DatasetAdapter)).toThrow(
      /expected functions/,
    );
    expect(unregisterDatasetAdapter('boxes-csv')).toBe(true);
    expect(unregisterDatasetAdapter('coco')).toBe(false);
  });
});

describe('format detection', () => {
  it('detects each fixture as exactly its own format', async () => {
    expect(await detectDatasetFormats(datumaroFixture('coco_dataset/coco_instances'))).toEqual(['coco']);
    expect(await detectDatasetFormats(datumaroFixture('voc_dataset/voc_dataset1'))).toEqual(['voc']);
    expect(await detectDatasetFormats(datumaroFixture('common_semantic_segmentation_dataset/dataset'))).toEqual([
      'css',
    ]);
    expect(await detectDatasetFormats(datumaroFixture('datumaro_dataset/legacy'))).toEqual(['datumaro']);
  });

  it('fails clearly for an unknown directory, a missing one, and an unknown format name', async () => {
    const empty = makeDataset({ 'readme.txt': 'nothing' });
    temp.push(empty);
    await expect(loadDataset(empty)).rejects.toThrow(/no adapter recognises .*tried datumaro, coco, voc, css/);
    await expect(loadDataset(join(empty, 'nope'))).rejects.toThrow(DatasetFormatError);
    await expect(loadDataset(empty, { format: 'kitti' })).rejects.toThrow(
      /expected 'auto' or one of 'datumaro', 'coco', 'voc', 'css', 'labelme', 'yolo', 'sa1b', got 'kitti'/,
    );
  });

  it('reports an invalid box through the public error class', () => {
    expect(() => checkBox([0, 0, 5.5, 2], { width: 4, height: 3 }, { reader: 't', file: 'f' })).toThrow(
      InvalidBoxError,
    );
    expect(checkBox([-0.5, 0, 4.5, 3], { width: 4, height: 3 }, { reader: 't', file: 'f' })).toEqual([0, 0, 4, 3]);
  });
});
