import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidFieldError } from './errors.js';
import { solidPng } from './test-utils/images.js';
import { encodeRleString, loadDataset } from '@samtune/datasets';
import lockfile from 'proper-lockfile';
import { canonicalImageName, LABELS_FILE, LabelStore, LabelsFileError, LabelsLockedError } from './labels-store.js';

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
      segmentation: { size: [3, 4], counts: encodeRleString([3, 2, 7]) }, // COCO's compressed RLE
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
    expect(again.annotations).toEqual([
      expect.objectContaining({ id: 4, image_id: 1, category_id: 2, segmentation: SEG2 }), // the API's uncompressed form
    ]);
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

  it('canonicalises image names: aliases of one file are one COCO image, old alias entries are merged', async () => {
    expect(['./a.jpg', 'sub/../a.jpg', 'a.jpg/.', 'a.jpg//', './sub//b.jpg'].map(canonicalImageName)).toEqual([
      'a.jpg',
      'a.jpg',
      'a.jpg',
      'a.jpg',
      'sub/b.jpg',
    ]);
    writeFileSync(
      join(dir, LABELS_FILE),
      JSON.stringify({
        images: [
          { id: 1, file_name: './a.jpg', width: 4, height: 3 },
          { id: 2, file_name: 'b.jpg', width: 4, height: 3 },
          { id: 3, file_name: 'x/../a.jpg', width: 4, height: 3 },
        ],
        annotations: [
          { id: 1, image_id: 1, category_id: 1, segmentation: SEG, area: 2, bbox: [1, 0, 1, 2], iscrowd: 0 },
          { id: 2, image_id: 3, category_id: 1, segmentation: SEG, area: 2, bbox: [1, 0, 1, 2], iscrowd: 0 },
        ],
        categories: [{ id: 1, name: 'leaf' }],
      }),
    );
    const store = new LabelStore(dir);
    expect((await store.readImage('a.jpg/.')).annotations.map((a) => a.id)).toEqual([1, 2]);
    for (const alias of ['./a.jpg', 'sub/../a.jpg', 'a.jpg/.'])
      await store.save(alias, 4, 3, [{ category: 'leaf', segmentation: SEG2 }]);
    const doc = await store.read();
    expect(doc.images.map((im) => [im.id, im.file_name])).toEqual([
      [1, 'a.jpg'],
      [2, 'b.jpg'],
    ]);
    expect(doc.annotations.map((a) => [a.image_id, a.segmentation])).toEqual([
      [1, { size: [3, 4], counts: encodeRleString(SEG2.counts) }],
    ]);
  });

  it('reads a file larger than its whole-file limit line by line (the layout it writes), and datasets reads it', async () => {
    const big = new LabelStore(dir, { wholeFileBytes: 0 }); // every file counts as "large"
    for (let i = 0; i < 30; i++)
      await big.save(`im${i}.png`, 4, 3, [
        { category: i % 2 ? 'leaf' : 'stem', segmentation: SEG },
        { category: 'leaf', segmentation: SEG2, score: 0.5 },
      ]);
    const text = readFileSync(join(dir, LABELS_FILE), 'utf8');
    expect(text.split('\n').slice(0, 3)).toEqual([
      '{',
      '"images":[',
      '{"id":1,"file_name":"im0.png","width":4,"height":3},',
    ]);
    const viaLines = await big.read();
    expect(viaLines).toEqual(JSON.parse(text)); // the same document as one JSON.parse
    expect(viaLines.annotations).toHaveLength(60);
    const png = await solidPng(4, 3);
    for (let i = 0; i < 30; i++) writeFileSync(join(dir, `im${i}.png`), png);
    const ds = await loadDataset(dir, { format: 'coco', strict: true });
    expect(ds.subsets.default?.map((item) => item.instances.length)).toEqual(Array(30).fill(2));

    writeFileSync(join(dir, LABELS_FILE), JSON.stringify(viaLines)); // one line: another tool's layout
    await expect(big.read()).rejects.toThrow(
      new LabelsFileError(
        `readLabelsFile(): ${join(dir, LABELS_FILE)} is larger than 0 bytes and line 1 is not in the server's one-item-per-line layout (expected '{'); fix or move it, it is not overwritten`,
      ),
    );
  });

  it('streams the file as stored, never through a symlink', async () => {
    const store = new LabelStore(dir);
    expect(await store.stream()).toBeUndefined();
    await store.save('a.jpg', 4, 3, [{ category: 'leaf', segmentation: SEG }]);
    const chunks: Buffer[] = [];
    for await (const c of (await store.stream())!) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(readFileSync(join(dir, LABELS_FILE), 'utf8'));
    rmSync(join(dir, LABELS_FILE));
    writeFileSync(join(dir, 'secret.txt'), 'secret');
    symlinkSync(join(dir, 'secret.txt'), join(dir, LABELS_FILE));
    await expect(store.stream()).rejects.toThrow(
      new LabelsFileError(
        `LabelStore.stream(): cannot read ${join(dir, LABELS_FILE)}: it is a symlink, which is not followed`,
      ),
    );
  });

  it('waits for the lock another process holds, and says so when it is held too long (LabelsLockedError)', async () => {
    const store = new LabelStore(dir, { lockWaitMs: 200 });
    await store.save('a.jpg', 4, 3, [{ category: 'leaf', segmentation: SEG }]);
    const before = readFileSync(join(dir, LABELS_FILE), 'utf8');
    const release = await lockfile.lock(join(dir, LABELS_FILE), { realpath: false });
    await expect(store.save('b.jpg', 4, 3, [{ category: 'leaf', segmentation: SEG }])).rejects.toThrow(
      new LabelsLockedError(
        `LabelStore.save(): expected the lock ${join(dir, LABELS_FILE)}.lock to be free within 200 ms, got it held by another process (another server on this folder?)`,
      ),
    );
    expect(readFileSync(join(dir, LABELS_FILE), 'utf8')).toBe(before);
    const waiting = new LabelStore(dir).save('b.jpg', 4, 3, [{ category: 'leaf', segmentation: SEG }]);
    await new Promise((r) => setTimeout(r, 100));
    await release();
    expect((await waiting).total).toBe(2); // saved once the lock was free
  });
});
