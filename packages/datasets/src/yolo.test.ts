/**
 * YOLO segmentation datasets as Ultralytics documents them (docs.ultralytics.com/datasets/segment/:
 * `data.yaml` with `path`, `train`, `val`, `names`; `labels/<split>/<image>.txt` with
 * `class x1 y1 … xn yn` normalised) and as Roboflow's "YOLOv8" export writes them (`train: ../train/images`).
 * Expected pixel sums are pycocotools' `frPyObjects` areas of the same polygons in pixels.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { detectDatasetFormats, loadDataset } from './registry.js';
import { rgbImagePng } from './test-utils/png-writer.js';
import { countOnes, makeDataset, removeDataset } from './test-utils/tmp-dataset.js';
import { yoloLabelPath } from './yolo.js';

const temp: string[] = [];
afterAll(() => temp.forEach(removeDataset));

/** Rows of [instance id, label, box, mask pixel count, mask source]. */
async function rows(
  item:
    | {
        instances: readonly {
          id: string;
          label: { name: string };
          box: readonly number[];
          maskSource: string;
          mask(): unknown;
        }[];
      }
    | undefined,
) {
  return Promise.all(
    (item?.instances ?? []).map(async (i) => [
      i.id,
      i.label.name,
      i.box,
      countOnes(((await i.mask()) as { data: Uint8Array }).data),
      i.maskSource,
    ]),
  );
}

describe('YOLO segmentation (format yolo)', () => {
  it('loads the Ultralytics layout: polygons, box lines, an image without labels', async () => {
    const root = makeDataset({
      'data.yaml': 'path: .\ntrain: images/train\nval: images/val\n\nnames:\n  0: leaf\n  1: stem\n',
      'images/train/a.png': rgbImagePng(24, 20),
      'labels/train/a.txt': '0 0.25 0.1 0.5 0.1 0.5 0.4 0.25 0.4\n1 0.5 0.5 0.25 0.2\n\n',
      'images/val/b.png': rgbImagePng(24, 20),
    });
    temp.push(root);
    expect(await detectDatasetFormats(root)).toEqual(['yolo']);
    const ds = await loadDataset(root);
    expect(ds.format).toBe('yolo');
    expect(ds.skipped).toEqual([]);
    expect(ds.labels).toEqual([
      { id: 0, name: 'leaf' },
      { id: 1, name: 'stem' },
    ]);
    expect(Object.keys(ds.subsets)).toEqual(['train', 'val']);
    const a = ds.subsets.train?.[0];
    expect(a).toMatchObject({ id: 'a', imagePath: `${root}/images/train/a.png`, width: 24, height: 20 });
    // polygon (6,2)-(12,8): 6x6 px; box (cx 12, cy 10, w 6, h 4) -> [9, 8, 15, 12]: 6x4 px
    expect(await rows(a)).toEqual([
      ['line1', 'leaf', [6, 2, 12, 8], 36, 'polygon'],
      ['line2', 'stem', [9, 8, 15, 12], 24, 'box'],
    ]);
    expect(ds.subsets.val?.map((i) => [i.id, i.instances.length])).toEqual([['b', 0]]);
  });

  it("loads Roboflow's YOLOv8 export (../train/images beside data.yaml, names as a list)", async () => {
    const root = makeDataset({
      'data.yaml':
        "train: ../train/images\nval: ../valid/images\ntest: ../test/images\n\nnc: 2\nnames: ['leaf', 'stem']\n",
      'train/images/a.png': rgbImagePng(24, 20),
      'train/labels/a.txt': '1 0.25 0.1 0.5 0.1 0.5 0.4\n',
      'valid/images/b.png': rgbImagePng(24, 20),
      'valid/labels/b.txt': '0 0.25 0.1 0.5 0.1 0.5 0.4 0.25 0.4\n',
      'test/images/c.png': rgbImagePng(24, 20),
    });
    temp.push(root);
    const ds = await loadDataset(root);
    expect(ds.skipped).toEqual([]);
    expect(Object.fromEntries(Object.entries(ds.subsets).map(([k, v]) => [k, v.map((i) => i.id)]))).toEqual({
      train: ['a'],
      val: ['b'],
      test: ['c'],
    });
    expect(await rows(ds.subsets.train?.[0])).toEqual([['line1', 'stem', [6, 2, 12, 8], 15, 'polygon']]);
    expect(await rows(ds.subsets.val?.[0])).toEqual([['line1', 'leaf', [6, 2, 12, 8], 36, 'polygon']]);
  });

  it('maps images to labels like Ultralytics (the last images folder)', () => {
    expect(yoloLabelPath('/d/images/train/images/x.y.jpg')).toBe('/d/images/train/labels/x.y.txt');
    expect(yoloLabelPath('/d/images/train/x')).toBe('/d/labels/train/x.txt');
  });

  it('reports bad lines, a missing split folder and a split outside the root', async () => {
    const root = makeDataset({
      'data.yaml': 'train: images/train\nval: images/missing\ntest: ../../elsewhere\nnames: [leaf]\n',
      'images/train/a.png': rgbImagePng(24, 20),
      'labels/train/a.txt': [
        '0 0.25 0.1 0.5 0.1 0.5 0.4',
        '3 0.25 0.1 0.5 0.1 0.5 0.4',
        '0 0.5 0.5 0.2',
        '0 0.25 0.1 1.5 0.1 0.5 0.4',
        'x 0.5 0.5 0.2 0.2',
      ].join('\n'),
    });
    temp.push(root);
    const ds = await loadDataset(root);
    expect(ds.subsets.train?.[0]?.instances.map((i) => i.id)).toEqual(['line1']);
    const at = (n: number) => `loadYolo: ${root}/labels/train/a.txt, subset 'train', item 'a', annotation 'line ${n}'`;
    expect(ds.skipped.map((s) => [s.kind, s.scope, s.message])).toEqual([
      ['unknown-category', 'annotation', `${at(2)}: unknown category 3; declared: [0]`],
      [
        'malformed-annotation',
        'annotation',
        `${at(3)}: malformed annotation: expected 'class x1 y1 … xn yn' (n >= 3) or 'class cx cy w h', got 4 values`,
      ],
      [
        'invalid-polygon',
        'annotation',
        `${at(4)}: invalid polygon: expected coordinates normalised to [0, 1], got '1.5' at value 3`,
      ],
      ['unknown-category', 'annotation', `${at(5)}: unknown category "x"; declared: [0]`],
      [
        'malformed-annotation',
        'file',
        `loadYolo: ${root}/data.yaml, subset 'val': malformed annotation: 'images/missing' is neither a folder nor a .txt list (looked at '${root}/images/missing')`,
      ],
      [
        'image-outside-root',
        'item',
        `loadYolo: ${root}/data.yaml, subset 'test': file_name '../elsewhere' resolves outside the image folder '${root}' (absolute or '..'); set SAMTUNE_ALLOW_IMAGES_OUTSIDE_ROOT=1 (or allowImagesOutsideRoot) to allow it`,
      ],
    ]);
  });

  it('refuses a data.yaml without usable names, and a forced yolo format without one', async () => {
    const root = makeDataset({ 'data.yaml': 'train: images/train\nnames: 3\n' });
    temp.push(root);
    await expect(loadDataset(root)).rejects.toThrow(
      `loadYolo: ${root}/data.yaml: malformed annotation: expected 'names' as a list of class names or a map {index: name}, got 3`,
    );
    const none = makeDataset({ 'images/a.png': rgbImagePng(4, 4) });
    temp.push(none);
    await expect(loadDataset(none, { format: 'yolo' })).rejects.toThrow(
      `loadYolo(root): expected a data.yaml (or a .yaml with 'names' and 'train'/'val') in '${none}', found none`,
    );
  });
});
