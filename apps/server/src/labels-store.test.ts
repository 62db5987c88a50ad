import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidFieldError } from './errors.js';
import { LABELS_FILE, LabelStore, LabelsFileError } from './labels-store.js';

// (H,W) = (3,4): foreground at column 1 rows 0-1, and column 3 row 2.
const SEG = { size: [3, 4] as [number, number], counts: [3, 2, 7] };
const SEG2 = { size: [3, 4] as [number, number], counts: [11, 1] };
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'samtune-labels-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('LabelStore', () => {
  it('writes COCO with area, bbox and category ids, and replaces one image on a second save', async () => {
    const store = new LabelStore(dir);
    expect(await store.read()).toEqual({ images: [], annotations: [], categories: [] });
    expect(
      await store.save('a.jpg', 4, 3, [
        { category: 'leaf', segmentation: SEG, score: 0.9 },
        { category: 'stem', segmentation: SEG2 },
      ]),
    ).toEqual({
      file: join(dir, LABELS_FILE),
      imageId: 1,
      saved: 2,
      total: 2,
    });
    await store.save('b.jpg', 4, 3, [{ category: 'stem', segmentation: SEG }]);
    const doc = JSON.parse(readFileSync(join(dir, LABELS_FILE), 'utf8'));
    expect(doc.categories).toEqual([
      { id: 1, name: 'leaf', supercategory: 'none' },
      { id: 2, name: 'stem', supercategory: 'none' },
    ]);
    expect(doc.images).toEqual([
      { id: 1, file_name: 'a.jpg', width: 4, height: 3 },
      { id: 2, file_name: 'b.jpg', width: 4, height: 3 },
    ]);
    expect(doc.annotations[0]).toEqual({
      id: 1,
      image_id: 1,
      category_id: 1,
      segmentation: { size: [3, 4], counts: [3, 2, 7] },
      area: 2,
      bbox: [1, 0, 1, 2],
      iscrowd: 0,
      score: 0.9,
    });
    expect(doc.annotations[1]).toMatchObject({ id: 2, image_id: 1, category_id: 2, area: 1, bbox: [3, 2, 1, 1] });
    expect(doc.annotations[2]).toMatchObject({ id: 3, image_id: 2, category_id: 2 });

    // Re-saving a.jpg with one label keeps b.jpg and the category ids.
    expect((await store.save('a.jpg', 4, 3, [{ category: 'stem', segmentation: SEG2 }])).total).toBe(2);
    const again = await store.readImage('a.jpg');
    expect(again.annotations).toEqual([expect.objectContaining({ id: 4, image_id: 1, category_id: 2 })]);
    expect((await store.readImage('b.jpg')).annotations.map((a) => a.id)).toEqual([3]);
    expect(readdirSync(dir)).toEqual([LABELS_FILE]); // no temporary file left
  });

  it('keeps unknown fields of an existing file and refuses to overwrite a corrupt one', async () => {
    writeFileSync(
      join(dir, LABELS_FILE),
      JSON.stringify({
        info: { year: 2024 },
        images: [{ id: 7, file_name: 'x.jpg', width: 4, height: 3 }],
        annotations: [],
        categories: [{ id: 5, name: 'leaf' }],
      }),
    );
    const store = new LabelStore(dir);
    await store.save('a.jpg', 4, 3, [{ category: 'leaf', segmentation: SEG }]);
    const doc = await store.read();
    expect(doc.info).toEqual({ year: 2024 });
    expect(doc.images.map((im) => [im.id, im.file_name])).toEqual([
      [7, 'x.jpg'],
      [8, 'a.jpg'],
    ]);
    expect(doc.annotations[0]?.category_id).toBe(5);

    writeFileSync(join(dir, LABELS_FILE), '{"images": [');
    await expect(store.save('a.jpg', 4, 3, [{ category: 'leaf', segmentation: SEG }])).rejects.toThrow(LabelsFileError);
    expect(readFileSync(join(dir, LABELS_FILE), 'utf8')).toBe('{"images": [');
  });

  it('refuses masks of another size than the image, and empty masks', () => {
    const store = new LabelStore(dir);
    expect(() => store.save('a.jpg', 5, 3, [{ category: 'leaf', segmentation: SEG }])).toThrow(
      new InvalidFieldError('annotations[0].segmentation.size', "expected [3, 5] (the size of 'a.jpg'), got [3, 4]"),
    );
    expect(() =>
      store.save('a.jpg', 4, 3, [{ category: 'leaf', segmentation: { size: [3, 4], counts: [12] } }]),
    ).toThrow(/annotations\[0\]\.segmentation: expected a mask with at least one foreground pixel/);
  });
});
