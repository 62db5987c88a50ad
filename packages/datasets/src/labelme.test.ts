/**
 * LabelMe exports as LabelMe 5.x's `LabelFile.save` writes them (github.com/wkentaro/labelme,
 * `labelme/_label_file.py`: version, flags, shapes [{label, points, group_id, description,
 * shape_type, flags, mask}], imagePath, imageData, imageHeight, imageWidth). Expected pixel sums are
 * pycocotools' `frPyObjects` areas of the polygons LabelMe's `labelme2coco.py` makes of the shapes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { circlePolygon } from './labelme.js';
import { detectDatasetFormats, loadDataset } from './registry.js';
import { encodePng, rgbImagePng } from './test-utils/png-writer.js';
import { countOnes, makeDataset, removeDataset } from './test-utils/tmp-dataset.js';

const temp: string[] = [];
afterAll(() => temp.forEach(removeDataset));

function shape(label: string, shape_type: string, points: number[][], group_id: number | null = null) {
  return { label, points, group_id, description: '', shape_type, flags: {}, mask: null };
}
function labelFile(imagePath: string, shapes: unknown[], h = 20, w = 24) {
  return { version: '5.4.1', flags: {}, shapes, imagePath, imageData: null, imageHeight: h, imageWidth: w };
}

describe('LabelMe (format labelme)', () => {
  it('loads polygons, rectangles, circles and group_id groups with their pixel sums', async () => {
    const root = makeDataset({
      'a.png': rgbImagePng(24, 20),
      'a.json': labelFile('a.png', [
        shape('leaf', 'polygon', [
          [2, 2],
          [10, 2],
          [10, 8],
          [2, 8],
        ]),
        shape('leaf', 'rectangle', [
          [18, 6],
          [12, 1],
        ]),
        shape('stem', 'circle', [
          [7.5, 14],
          [10.5, 14],
        ]),
        shape(
          'leaf',
          'polygon',
          [
            [1, 10],
            [4, 10],
            [4, 13],
          ],
          1,
        ),
        shape(
          'leaf',
          'polygon',
          [
            [15, 12],
            [20, 12],
            [20, 18],
            [15, 18],
          ],
          1,
        ),
      ]),
      // a Windows export: imagePath with backslashes, image in a sub-folder
      'images/b.png': rgbImagePng(24, 20),
      'b.json': labelFile('images\\b.png', [
        shape('stem', 'polygon', [
          [0, 0],
          [6, 0],
          [6, 4],
        ]),
      ]),
    });
    temp.push(root);
    expect(await detectDatasetFormats(root)).toEqual(['labelme']);
    const ds = await loadDataset(root);
    expect(ds.format).toBe('labelme');
    expect(ds.skipped).toEqual([]);
    expect(ds.labels).toEqual([
      { id: 1, name: 'leaf' },
      { id: 2, name: 'stem' },
    ]);
    const [a, b] = ds.subsets.default ?? [];
    expect(a).toMatchObject({ id: 'a', imagePath: `${root}/a.png`, width: 24, height: 20 });
    const rows = await Promise.all(
      (a?.instances ?? []).map(async (i) => [i.id, i.label.name, i.box, countOnes((await i.mask()).data)]),
    );
    expect(rows).toEqual([
      ['shape0', 'leaf', [2, 2, 10, 8], 48],
      ['shape1', 'leaf', [12, 1, 18, 6], 30],
      ['shape2', 'stem', [4.5, 11, 10.5, 17], 26],
      ['shape3', 'leaf', [1, 10, 20, 18], 33],
    ]);
    expect(a?.instances[3]?.attributes).toEqual({ group_id: '1' });
    expect(b).toMatchObject({ id: 'b', imagePath: `${root}/images/b.png` });
    expect(b?.instances.map((i) => i.label.name)).toEqual(['stem']);
  });

  it('makes circles like labelme2coco: max(floor(pi / acos(1 - 1/r)), 12) points', () => {
    expect(circlePolygon(7.5, 14, 10.5, 14)).toHaveLength(24);
    expect(circlePolygon(50, 50, 90, 50)).toHaveLength(28);
    expect(circlePolygon(0, 0, 0.5, 0)).toHaveLength(24);
  });

  it("places LabelMe's AI 'mask' shapes (a base64 1-bit PNG of the box) and unites them with a group", async () => {
    // a 3x2 crop at x 4..6, y 5..6 with 4 pixels set; LabelMe writes bool masks as 1-bit PNGs
    const crop = encodePng({ width: 3, height: 2, colorType: 0, bitDepth: 1, data: [1, 1, 0, 0, 1, 1] });
    const mask = (points: number[][], png: Buffer, group: number | null = null) => ({
      ...shape('leaf', 'mask', points, group),
      mask: png.toString('base64'),
    });
    const root = makeDataset({
      'a.png': rgbImagePng(24, 20),
      'a.json': labelFile('a.png', [
        mask(
          [
            [4, 5],
            [6, 6],
          ],
          crop,
          2,
        ),
        shape(
          'leaf',
          'polygon',
          [
            [2, 2],
            [10, 2],
            [10, 8],
            [2, 8],
          ],
          2,
        ),
        mask(
          [
            [4, 5],
            [6, 6],
          ],
          crop,
        ),
        mask(
          [
            [4, 5],
            [7, 6],
          ],
          crop,
        ),
        mask(
          [
            [20, 18],
            [24, 20],
          ],
          crop,
        ),
      ]),
    });
    temp.push(root);
    const ds = await loadDataset(root, { concurrency: 1 });
    const a = ds.subsets.default?.[0];
    const rows = await Promise.all(
      (a?.instances ?? []).map(async (i) => [i.id, i.maskSource, i.box, countOnes((await i.mask()).data)]),
    );
    expect(rows).toEqual([
      ['shape0', 'mixed', [2, 2, 10, 8], 48],
      ['shape2', 'rle', [4, 5, 7, 7], 4],
    ]);
    const m = (await a?.instances[1]?.mask())?.data;
    expect([m?.[5 * 24 + 4], m?.[5 * 24 + 5], m?.[5 * 24 + 6], m?.[6 * 24 + 4], m?.[6 * 24 + 6]]).toEqual([
      1, 1, 0, 0, 1,
    ]);
    expect(ds.skipped.map((s) => s.error.detail)).toEqual([
      "malformed annotation: 'mask' is not a usable PNG: it is (H,W)=(2,3), the points span (2,4)",
      'invalid box: expected mask corners inside the image (W,H)=(24,20), got [20,18,24,20]',
    ]);
  });

  it('reads subset folders and reports every shape or file it cannot use', async () => {
    const root = makeDataset({
      'train/a.png': rgbImagePng(24, 20),
      'train/a.json': labelFile('a.png', [
        shape('leaf', 'polygon', [
          [2, 2],
          [10, 2],
          [10, 8],
        ]),
        shape('leaf', 'line', [
          [1, 1],
          [5, 5],
        ]),
        shape('', 'polygon', [
          [2, 2],
          [10, 2],
          [10, 8],
        ]),
        shape('leaf', 'rectangle', [
          [1, 1],
          [2, 2],
          [3, 3],
        ]),
        shape('leaf', 'polygon', [
          [30, 30],
          [40, 30],
          [40, 40],
        ]),
      ]),
      'train/escape.json': labelFile('../../outside.png', [
        shape('leaf', 'polygon', [
          [2, 2],
          [10, 2],
          [10, 8],
        ]),
      ]),
      'val/c.png': rgbImagePng(24, 20),
      'val/c.json': labelFile(
        'c.png',
        [
          shape('leaf', 'polygon', [
            [2, 2],
            [10, 2],
            [10, 8],
          ]),
        ],
        30,
        24,
      ),
      'val/d.json': labelFile('d.png', []),
      'val/e.json': '{"version": "5.4.1", "flags": {}, "shapes": [',
    });
    temp.push(root);
    const ds = await loadDataset(root);
    expect(Object.fromEntries(Object.entries(ds.subsets).map(([k, v]) => [k, v.map((i) => i.id)]))).toEqual({
      train: ['a'],
    });
    expect(ds.subsets.train?.[0]?.instances.map((i) => i.id)).toEqual(['shape0']);
    const r = `loadLabelMe: ${root}`;
    // sorted by message: files are read concurrently
    expect(ds.skipped.map((s) => [s.kind, s.scope, s.message]).sort((x, y) => (x[2]! < y[2]! ? -1 : 1))).toEqual([
      [
        'invalid-box',
        'annotation',
        `${r}/train/a.json, subset 'train', item 'a', annotation 'shape4': invalid box: expected a shape inside the image, got none with area there`,
      ],
      [
        'malformed-annotation',
        'annotation',
        `${r}/train/a.json, subset 'train', item 'a', annotation 'shapes[1]': malformed annotation: shape_type "line" has no area; only polygon, rectangle, circle and mask shapes become masks`,
      ],
      [
        'malformed-annotation',
        'annotation',
        `${r}/train/a.json, subset 'train', item 'a', annotation 'shapes[2]': malformed annotation: expected a non-empty 'label', got ""`,
      ],
      [
        'invalid-polygon',
        'annotation',
        `${r}/train/a.json, subset 'train', item 'a', annotation 'shapes[3]': invalid polygon: expected 2 points of finite numbers for a rectangle, got [[1,1],[2,2],[3,3]]`,
      ],
      [
        'image-outside-root',
        'item',
        `${r}/train/escape.json, subset 'train', item 'escape': file_name '../../outside.png' resolves outside the image folder '${root}' (absolute or '..'); set SAMTUNE_ALLOW_IMAGES_OUTSIDE_ROOT=1 (or allowImagesOutsideRoot) to allow it`,
      ],
      [
        'image-size-mismatch',
        'item',
        `${r}/val/c.json, subset 'val', item 'c': declared image size (H,W)=(30,24) but the image file is (20,24)`,
      ],
      [
        'missing-image',
        'item',
        `${r}/val/d.json, subset 'val', item 'd': image file '${root}/val/d.png' does not exist`,
      ],
      [
        'malformed-annotation',
        'item',
        expect.stringMatching(
          new RegExp(`^${r}/val/e\\.json, subset 'val', item 'e': malformed annotation: cannot parse JSON`),
        ),
      ],
    ]);
  });
});
