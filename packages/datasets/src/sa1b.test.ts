/**
 * SA-1B as Meta's Segment Anything README ("Dataset") documents a file: `{image: {image_id, width,
 * height, file_name}, annotations: [{id, segmentation: {size, counts}, bbox, area, predicted_iou,
 * stability_score, crop_box, point_coords}]}` beside `sa_<n>.jpg`. The RLE strings and their areas
 * come from pycocotools' `mask.encode` (48 px: rows 2-7 x cols 3-10; 37 px: rows 10-18 x cols 12-15
 * plus pixel (12, 2)).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { detectDatasetFormats, loadDataset } from './registry.js';
import { rgbImagePng } from './test-utils/png-writer.js';
import { countOnes, makeDataset, removeDataset } from './test-utils/tmp-dataset.js';

const temp: string[] = [];
afterAll(() => temp.forEach(removeDataset));

const RLE_48 = 'n16>0000000000000R8';
const RLE_37 = 'd11U68VJ00000f4';
function ann(id: number, counts: string, bbox: number[], extra: Record<string, unknown> = {}) {
  return {
    id,
    segmentation: { size: [20, 24], counts },
    bbox,
    area: 0,
    predicted_iou: 0.93,
    stability_score: 0.97,
    crop_box: [0, 0, 24, 20],
    point_coords: [[6.5, 4.25]],
    ...extra,
  };
}
function file(imageId: number, fileName: string, annotations: unknown[], height = 20) {
  return { image: { image_id: imageId, width: 24, height, file_name: fileName }, annotations };
}

describe('SA-1B (format sa1b)', () => {
  it('loads sa_*.json with their RLE masks, boxes, points and scores as one class', async () => {
    const root = makeDataset({
      'sa_1.jpg': rgbImagePng(24, 20),
      'sa_1.json': file(1, 'sa_1.jpg', [ann(101, RLE_48, [3, 2, 8, 6]), ann(102, RLE_37, [2, 10, 14, 9])]),
      'sa_000020/sa_223750.jpg': rgbImagePng(24, 20),
      'sa_000020/sa_223750.json': file(223750, 'sa_223750.jpg', [ann(7, RLE_37, [2, 10, 14, 9])]),
    });
    temp.push(root);
    expect(await detectDatasetFormats(root)).toEqual(['sa1b']);
    const ds = await loadDataset(root);
    expect(ds.format).toBe('sa1b');
    expect(ds.skipped).toEqual([]);
    expect(ds.labels).toEqual([{ id: 1, name: 'object' }]);
    expect(Object.keys(ds.subsets)).toEqual(['default', 'sa_000020']);
    const item = ds.subsets.default?.[0];
    expect(item).toMatchObject({ id: 'sa_1', sourceId: 1, imagePath: `${root}/sa_1.jpg`, width: 24, height: 20 });
    const rows = await Promise.all(
      (item?.instances ?? []).map(async (i) => [i.id, i.label.name, i.box, countOnes((await i.mask()).data)]),
    );
    expect(rows).toEqual([
      ['101', 'object', [3, 2, 11, 8], 48],
      ['102', 'object', [2, 10, 16, 19], 37],
    ]);
    expect(item?.instances[0]).toMatchObject({
      maskSource: 'rle',
      iscrowd: false,
      points: [[6.5, 4.25]],
      attributes: { predicted_iou: 0.93, stability_score: 0.97 },
    });
    expect(ds.subsets.sa_000020?.map((i) => [i.id, i.sourceId, i.instances.length])).toEqual([
      ['sa_223750', 223750, 1],
    ]);
  });

  it('refuses a forced sa1b format on a folder without sa_<n>.json files', async () => {
    const root = makeDataset({ 'a.jpg': rgbImagePng(4, 4), 'a.json': {} });
    temp.push(root);
    await expect(loadDataset(root, { format: 'sa1b' })).rejects.toThrow(
      `loadSa1b(root): expected sa_<n>.json files in '${root}' or its sub-folders, found none`,
    );
  });

  it('reports bad annotations and files, and keeps file_name inside the root', async () => {
    const root = makeDataset({
      'sa_1.jpg': rgbImagePng(24, 20),
      'sa_1.json': file(1, 'sa_1.jpg', [
        ann(1, RLE_48, [3, 2, 8, 6]),
        ann(2, RLE_48, [3, 2, 8, 6], { segmentation: { size: [10, 10], counts: RLE_48 } }),
        ann(3, 'not rle', [3, 2, 8, 6]),
      ]),
      'sa_2.json': file(2, '../../etc/sa_2.jpg', []),
      'sa_3.json': { annotations: [] },
      'sa_4.jpg': rgbImagePng(24, 20),
      'sa_4.json': file(4, 'sa_4.jpg', [], 30),
    });
    temp.push(root);
    const ds = await loadDataset(root, { concurrency: 1 }); // one file at a time: reports in file order
    expect(ds.subsets.default?.map((i) => [i.id, i.instances.map((x) => x.id)])).toEqual([['sa_1', ['1']]]);
    const at = (n: number) => `loadSa1b: ${root}/sa_${n}.json, subset 'default', item 'sa_${n}'`;
    expect(ds.skipped.map((s) => [s.kind, s.scope, s.message])).toEqual([
      ['rle-size-mismatch', 'annotation', `${at(1)}, annotation '2': RLE size [h,w]=[10,10] but the image is [20,24]`],
      [
        'invalid-rle',
        'annotation',
        `${at(1)}, annotation '3': invalid RLE: decodeRleString(s): expected characters '0'..'o' (48..111), got code 116 at offset 2`,
      ],
      [
        'image-outside-root',
        'item',
        `${at(2)}: file_name '../../etc/sa_2.jpg' resolves outside the image folder '${root}' (absolute or '..'); set SAMTUNE_ALLOW_IMAGES_OUTSIDE_ROOT=1 (or allowImagesOutsideRoot) to allow it`,
      ],
      [
        'malformed-annotation',
        'item',
        `${at(3)}: malformed annotation: expected {image: {image_id, width > 0, height > 0, file_name}, annotations: [...]}, got {"annotations":[]}`,
      ],
      ['image-size-mismatch', 'item', `${at(4)}: declared image size (H,W)=(30,24) but the image file is (20,24)`],
    ]);
  });
});
