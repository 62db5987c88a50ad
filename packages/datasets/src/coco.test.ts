import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset } from './registry.js';
import { summarizeDataset } from './inspect.js';
import { encodeRleString } from './rle.js';
import { datumaroFixture, sharedPath } from './test-utils/fixtures.js';
import { countOnes, makeDataset, removeDataset } from './test-utils/tmp-dataset.js';
import { rgbImagePng } from './test-utils/png-writer.js';

const temp: string[] = [];
afterAll(() => temp.forEach(removeDataset));

async function pixels(m: { mask(): unknown }): Promise<number> {
  return countOnes(((await m.mask()) as { data: Uint8Array }).data);
}

describe('COCO fixture (datumaro-formats/coco_dataset/coco_instances)', () => {
  it('loads the exact items, labels, boxes and mask pixel counts of its files', async () => {
    const ds = await loadDataset(datumaroFixture('coco_dataset/coco_instances'));
    expect(ds.format).toBe('coco');
    expect(ds.skipped).toEqual([]);
    // Non-contiguous ids 1, 2, 4; 'c' has no annotation and still exists.
    expect(ds.labels).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
      { id: 4, name: 'c' },
    ]);
    expect(Object.keys(ds.subsets)).toEqual(['train', 'val']);
    const [a] = ds.subsets.train ?? [];
    expect(a).toMatchObject({ id: 'a', subset: 'train', width: 10, height: 5 });
    expect(a?.imagePath).toBe(datumaroFixture('coco_dataset/coco_instances/images/train/a.jpg'));
    expect(a?.instances).toHaveLength(1);
    // Annotation 1: empty segmentation, bbox [2,2,3,1] -> box-only, XYXY [2,2,5,3], 3 pixels.
    const a1 = a?.instances[0];
    expect(a1).toMatchObject({
      id: '1',
      label: { id: 2, name: 'b' },
      box: [2, 2, 5, 3],
      iscrowd: false,
      maskSource: 'box',
    });
    expect(await pixels(a1 as never)).toBe(3);

    const [b] = ds.subsets.val ?? [];
    expect(b).toMatchObject({ id: 'b', subset: 'val', width: 5, height: 10 });
    expect(b?.instances).toHaveLength(2);
    const [b1, b2] = b?.instances ?? [];
    // Polygon (0,0)-(1,0)-(1,2)-(0,2), area 2, with its attributes.
    expect(b1).toMatchObject({
      id: '1',
      label: { id: 1, name: 'a' },
      box: [0, 0, 1, 2],
      iscrowd: false,
      maskSource: 'polygon',
      attributes: { x: 1, y: 'hello' },
    });
    const m1 = await b1?.mask();
    expect(m1).toMatchObject({ width: 5, height: 10 });
    expect(countOnes(m1?.data ?? [])).toBe(2);
    expect([m1?.data[0], m1?.data[5], m1?.data[1], m1?.data[10]]).toEqual([1, 1, 0, 0]);
    // Crowd RLE counts [0, 20, 30] on (H,W)=(10,5): the first two columns, 20 pixels.
    expect(b2).toMatchObject({
      id: '2',
      label: { id: 2, name: 'b' },
      box: [0, 0, 1, 9],
      iscrowd: true,
      maskSource: 'rle',
    });
    const m2 = await b2?.mask();
    expect(countOnes(m2?.data ?? [])).toBe(20);
    for (let y = 0; y < 10; y++) expect([m2?.data[y * 5], m2?.data[y * 5 + 1], m2?.data[y * 5 + 2]]).toEqual([1, 1, 0]);
  });
});

describe('plant-seg-coco (Roboflow per-folder layout)', () => {
  it('counts train 59 / 479 and valid 17 / 104 from annotations and image headers', async () => {
    const ds = await loadDataset(sharedPath('datasets/plant-seg-coco'));
    expect(ds.format).toBe('coco');
    expect(summarizeDataset(ds)).toEqual({
      format: 'coco',
      subsets: {
        train: { images: 59, instances: 479, crowd: 0, skipped: 0 },
        valid: { images: 17, instances: 104, crowd: 0, skipped: 0 },
      },
      labels: { custom: 0, leaf: 154, root: 323, stem: 106 },
    });
    const first = ds.subsets.train?.[0];
    expect(first).toMatchObject({ width: 2048, height: 1536 });
    // bbox written as [486, 767, "333.0337", "30.4206"] (strings): XYXY [486, 767, 819.0337, 797.4206].
    const inst = ds.subsets.train?.flatMap((i) => i.instances).find((i) => i.id === '1');
    expect(inst?.box[0]).toBe(486);
    expect(inst?.box[2]).toBeCloseTo(819.0337, 6);
    expect(inst?.box[3]).toBeCloseTo(797.4206, 6);
    expect(inst?.maskSource).toBe('polygon');
  });
});

describe('COCO layouts and encodings (temp datasets)', () => {
  const png = rgbImagePng(4, 3);
  const doc = (anns: unknown[]): Record<string, unknown> => ({
    images: [{ id: 7, file_name: 'x.png', width: 4, height: 3 }],
    categories: [{ id: 10, name: 'thing' }],
    annotations: anns,
  });

  it('reads a compressed RLE string, an uncompressed RLE and a multi-polygon union', async () => {
    // Column-major counts on (H,W)=(3,4): 1 zero, 2 ones, 4 zeros, 3 ones, 2 zeros -> 5 pixels:
    // column 0 rows 1-2, column 2 rows 1-2, column 3 row 0.
    const counts = [1, 2, 4, 3, 2];
    const root = makeDataset({
      'annotations/instances_train.json': doc([
        {
          id: 1,
          image_id: 7,
          category_id: 10,
          segmentation: { size: [3, 4], counts: encodeRleString(counts) },
          iscrowd: 0,
        },
        { id: 2, image_id: 7, category_id: 10, segmentation: { size: [3, 4], counts }, iscrowd: 1 },
        {
          id: 3,
          image_id: 7,
          category_id: 10,
          segmentation: [
            [0, 0, 1, 0, 1, 1, 0, 1],
            [2, 1, 4, 1, 4, 3, 2, 3],
          ],
        },
      ]),
      'images/train/x.png': png,
    });
    temp.push(root);
    const ds = await loadDataset(root, { format: 'coco' });
    const [r1, r2, p3] = ds.subsets.train?.[0]?.instances ?? [];
    expect(r1).toMatchObject({ maskSource: 'rle', iscrowd: false, box: [0, 0, 4, 3] });
    expect(r2).toMatchObject({ maskSource: 'rle', iscrowd: true, box: [0, 0, 4, 3] });
    expect(Array.from((await r1?.mask())?.data ?? [])).toEqual([0, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0]);
    expect(Array.from((await r2?.mask())?.data ?? [])).toEqual([0, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0]);
    // Union of a 1x1 square and a 2x2 square: 1 + 4 pixels; box = extent of both polygons.
    expect(p3).toMatchObject({ maskSource: 'polygon', box: [0, 0, 4, 3] });
    expect(Array.from((await p3?.mask())?.data ?? [])).toEqual([1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]);
  });

  it('reads the Roboflow layout in the root as subset "default", and images/ without a subset folder', async () => {
    const root = makeDataset({ '_annotations.coco.json': doc([]), 'x.png': png });
    const std = makeDataset({ 'annotations/instances_val2017.json': doc([]), 'images/x.png': png });
    temp.push(root, std);
    expect(summarizeDataset(await loadDataset(root)).subsets).toEqual({
      default: { images: 1, instances: 0, crowd: 0, skipped: 0 },
    });
    const ds = await loadDataset(std);
    expect(Object.keys(ds.subsets)).toEqual(['val2017']);
    expect(ds.subsets.val2017?.[0]?.imagePath).toBe(`${std}/images/x.png`);
  });
});
