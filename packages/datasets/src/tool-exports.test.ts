/**
 * Small exports built as each labelling tool writes them (the source of each format is named above
 * its test), read back: instance counts, mask pixel sums and the messages of what cannot be read.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { summarizeDataset } from './inspect.js';
import { loadDatasetPlugins } from './plugins.js';
import { listDatasetAdapters, loadDataset, registerDatasetAdapter, unregisterDatasetAdapter } from './registry.js';
import { encodePng, grayMaskPng, rgbImagePng } from './test-utils/png-writer.js';
import { countOnes, makeDataset, removeDataset } from './test-utils/tmp-dataset.js';
import type { Dataset } from './model.js';

const temp: string[] = [];
afterAll(() => temp.forEach(removeDataset));
const PNG = rgbImagePng(8, 6);

function dataset(files: Parameters<typeof makeDataset>[0]): string {
  const root = makeDataset(files);
  temp.push(root);
  return root;
}

/** [id, label, iscrowd, mask pixels] of every instance of a subset. */
async function rows(ds: Dataset, subset: string): Promise<[string, string, boolean, number][]> {
  const out: [string, string, boolean, number][] = [];
  for (const item of ds.subsets[subset] ?? [])
    for (const i of item.instances) out.push([i.id, i.label.name, i.iscrowd, countOnes((await i.mask()).data)]);
  return out;
}

const cats = [
  { id: 1, name: 'leaf' },
  { id: 2, name: 'stem' },
];
const coco = (annotations: unknown[], fileName = 'a.png', extra: Record<string, unknown> = {}) => ({
  images: [{ id: 1, file_name: fileName, width: 8, height: 6 }],
  categories: cats,
  annotations,
  ...extra,
});

// CVAT "COCO 1.0" export (https://docs.cvat.ai/docs/manual/advanced/formats/format-coco/): polygons
// are `iscrowd: 0`; every mask-tool object (brush, SAM) is an uncompressed RLE with `iscrowd: 1`.
// Column-major counts on (H,W)=(6,8): 12 zeros, then 3 ones (x=2, y=0..2), 3 zeros, 3 ones (x=3).
const CVAT_MASK = { size: [6, 8], counts: [12, 3, 3, 3, 27] };
const cvatExport = [
  { id: 1, image_id: 1, category_id: 1, iscrowd: 0, segmentation: [[0, 0, 2, 0, 2, 2, 0, 2]], bbox: [0, 0, 2, 2] },
  { id: 2, image_id: 1, category_id: 2, iscrowd: 1, segmentation: CVAT_MASK, bbox: [2, 0, 2, 3] },
  { id: 3, image_id: 1, category_id: 1, iscrowd: 1, segmentation: CVAT_MASK, bbox: [2, 0, 2, 3] },
];

describe('CVAT COCO 1.0: mask objects are iscrowd 1', () => {
  it('loads every object, crowd ones flagged, and data inspect counts them', async () => {
    const root = dataset({ 'annotations/instances_default.json': coco(cvatExport), 'images/default/a.png': PNG });
    const ds = await loadDataset(root);
    expect(await rows(ds, 'default')).toEqual([
      ['1', 'leaf', false, 4],
      ['2', 'stem', true, 6],
      ['3', 'leaf', true, 6],
    ]);
    expect(summarizeDataset(ds).subsets.default).toEqual({ images: 1, instances: 3, crowd: 2, skipped: 0 });
  });

  it('names a non-0/1 iscrowd as a bad annotation of its file', async () => {
    const root = dataset({
      'annotations/instances_default.json': coco([{ ...cvatExport[0], iscrowd: 'a' }, cvatExport[1]]),
      'images/default/a.png': PNG,
    });
    const ds = await loadDataset(root);
    expect(await rows(ds, 'default')).toEqual([['2', 'stem', true, 6]]);
    expect(ds.skipped.map((s) => [s.kind, s.annotationId, s.message.split(': ').slice(-2).join(': ')])).toEqual([
      ['malformed-annotation', '1', `malformed annotation: expected 'iscrowd' 0 or 1, got "a"`],
    ]);
  });
});

// COCO data format (https://cocodataset.org/#format-data) and Datumaro's COCO error cases.
describe('COCO messages that name the problem', () => {
  it('a missing category_id, and a file without categories', async () => {
    const { category_id: _drop, ...noCat } = cvatExport[0] as Record<string, unknown>;
    const root = dataset({ 'x/_annotations.coco.json': coco([noCat]), 'x/a.png': PNG });
    const ds = await loadDataset(root);
    expect(ds.skipped.map((s) => s.message)).toEqual([
      `loadCoco: ${root}/x/_annotations.coco.json, subset 'x', item 'a', annotation '1': malformed annotation: expected a 'category_id', got undefined`,
    ]);
    const bare = dataset({
      'y/_annotations.coco.json': coco([cvatExport[0]], 'a.png', { categories: undefined }),
      'y/a.png': PNG,
    });
    const ds2 = await loadDataset(bare);
    expect(ds2.skipped).toHaveLength(1);
    expect(ds2.skipped[0]?.message).toContain(
      `annotation '1': unknown category 1: the annotation file declares no categories (COCO 'categories', Datumaro 'categories.label.labels' missing or empty)`,
    );
  });
});

describe('COCO layouts', () => {
  // The official COCO 2017 download (also mmdetection's layout): annotations/ beside val2017/.
  it('COCO 2017: annotations/instances_val2017.json beside val2017/, as a folder and as the file alone', async () => {
    const root = dataset({ 'annotations/instances_val2017.json': coco(cvatExport), 'val2017/a.png': PNG });
    const ds = await loadDataset(root);
    expect(ds.subsets.val2017?.[0]?.imagePath).toBe(`${root}/val2017/a.png`);
    expect((await rows(ds, 'val2017')).length).toBe(3);
    const alone = await loadDataset(`${root}/annotations/instances_val2017.json`);
    expect(alone.subsets.val2017?.[0]?.imagePath).toBe(`${root}/val2017/a.png`);
  });

  it('a missing image says where it looked and points to --images', async () => {
    const root = dataset({ 'annotations/instances_val2017.json': coco(cvatExport) });
    const ds = await loadDataset(`${root}/annotations/instances_val2017.json`);
    expect(ds.skipped).toHaveLength(1);
    expect(ds.skipped[0]?.message).toContain(
      `image file '${root}/annotations/a.png' does not exist (looked in '${root}/annotations', '${root}/val2017', '${root}/images/val2017', '${root}/images'); give the image folder with --images <dir>`,
    );
  });

  it('keypoints and stuff folders load (instances_ wins for a subset that has both)', async () => {
    const person = {
      id: 9,
      image_id: 1,
      category_id: 1,
      iscrowd: 0,
      segmentation: [[0, 0, 4, 0, 4, 4, 0, 4]],
      keypoints: [1, 1, 2],
      num_keypoints: 1,
    };
    const kp = dataset({ 'annotations/person_keypoints_val2017.json': coco([person]), 'val2017/a.png': PNG });
    expect(await rows(await loadDataset(kp), 'val2017')).toEqual([['9', 'leaf', false, 16]]);
    const stuff = dataset({ 'annotations/stuff_val2017.json': coco([cvatExport[2]]), 'images/val2017/a.png': PNG });
    expect(await rows(await loadDataset(stuff), 'val2017')).toEqual([['3', 'leaf', true, 6]]);
    const both = dataset({
      'annotations/instances_val2017.json': coco(cvatExport),
      'annotations/person_keypoints_val2017.json': coco([person]),
      'val2017/a.png': PNG,
    });
    expect((await rows(await loadDataset(both), 'val2017')).map((r) => r[0])).toEqual(['1', '2', '3']);
    expect(
      (await loadDataset(`${kp}/annotations/person_keypoints_val2017.json`)).subsets.val2017?.[0]?.instances,
    ).toHaveLength(1);
  });

  // COCO panoptic (https://cocodataset.org/#format-data, "Panoptic Segmentation"): segment id = R + 256 G + 256^2 B.
  it('panoptic (a folder or the file alone) loads one instance per PNG segment', async () => {
    const ids = [
      [0, 0, 0, 0, 0, 0, 0, 0],
      [0, 5, 5, 0, 0, 0, 0, 0],
      [0, 5, 5, 0, 0, 300, 300, 300],
      [0, 0, 0, 0, 0, 300, 300, 300],
      [0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0],
    ].flat();
    const rgb = ids.flatMap((v) => [v % 256, (v >> 8) % 256, v >> 16]);
    const png = encodePng({ width: 8, height: 6, colorType: 2, data: rgb });
    const panoptic = {
      images: [{ id: 1, file_name: 'a.png', width: 8, height: 6 }],
      categories: [
        { id: 1, name: 'leaf', isthing: 1 },
        { id: 2, name: 'soil', isthing: 0 },
      ],
      annotations: [
        {
          image_id: 1,
          file_name: 'a.png',
          segments_info: [
            { id: 5, category_id: 1, iscrowd: 0, bbox: [1, 1, 2, 2] },
            { id: 300, category_id: 2, iscrowd: 1, bbox: [5, 2, 3, 2] },
            { id: 7, category_id: 9, iscrowd: 0, bbox: [0, 0, 1, 1] },
          ],
        },
      ],
    };
    const root = dataset({
      'annotations/panoptic_val2017.json': panoptic,
      'annotations/panoptic_val2017/a.png': png,
      'val2017/a.png': PNG,
    });
    for (const ds of [await loadDataset(root), await loadDataset(`${root}/annotations/panoptic_val2017.json`)]) {
      expect(await rows(ds, 'val2017')).toEqual([
        ['5', 'leaf', false, 4],
        ['300', 'soil', true, 6],
      ]);
      expect(ds.subsets.val2017?.[0]?.instances.map((i) => i.box)).toEqual([
        [1, 1, 3, 3],
        [5, 2, 8, 4],
      ]);
      expect(ds.skipped.map((s) => s.message.split(': ').slice(1).join(': '))).toEqual([
        `${root}/annotations/panoptic_val2017.json, subset 'val2017', item 'a', annotation 'segment 7': unknown category 9; declared: [1, 2]`,
      ]);
    }
  });

  // Label Studio's COCO export made on Windows (https://labelstud.io/guide/export#COCO) writes
  // `images\\<name>` file names.
  it('backslash file names (Label Studio on Windows) load, and stay inside the folder', async () => {
    const root = dataset({ 'result.json': coco(cvatExport.slice(0, 1), 'images\\a.png'), 'images/a.png': PNG });
    const ds = await loadDataset(`${root}/result.json`);
    expect(ds.subsets.default?.[0]).toMatchObject({ id: 'images/a', imagePath: `${root}/images/a.png` });
    expect(await rows(ds, 'default')).toEqual([['1', 'leaf', false, 4]]);
    const evil = dataset({ 'result.json': coco([], '..\\..\\etc\\passwd') });
    expect((await loadDataset(`${evil}/result.json`)).skipped.map((s) => s.kind)).toEqual(['image-outside-root']);
  });
});

// Datumaro format (https://openvinotoolkit.github.io/datumaro/latest/docs/data-formats/formats/datumaro.html):
// CVAT's ellipse tool is an `ellipse` annotation, `points` [x1, y1, x2, y2], `attributes.rotation`.
describe('Datumaro ellipses (CVAT ellipse tool)', () => {
  it('are instances rasterised as CVAT exports them', async () => {
    const ann = (id: number, points: number[], rotation = 0) => ({
      id,
      type: 'ellipse',
      label_id: 0,
      group: 0,
      points,
      attributes: { rotation },
    });
    const root = dataset({
      'annotations/train.json': {
        categories: { label: { labels: [{ name: 'cell' }] } },
        items: [
          {
            id: 'a',
            image: { path: 'a.png', size: [6, 8] },
            annotations: [ann(1, [0, 0, 8, 6]), ann(2, [1, 2, 7, 4], 90), { id: 3, type: 'caption', caption: 'x' }],
          },
        ],
      },
      'images/train/a.png': PNG,
    });
    const ds = await loadDataset(root);
    expect(ds.skipped).toEqual([]);
    const [full, turned] = ds.subsets.train?.[0]?.instances ?? [];
    // pi * 4 * 3 = 37.7: 36 pixel centres fall inside the ellipse inscribed in the 8x6 image.
    expect(countOnes((await full!.mask()).data)).toBe(36);
    expect(full?.box).toEqual([0, 0, 8, 6]);
    // 6x2 rotated by 90 degrees: a 2-wide, 6-high ellipse around (4, 3), clipped to the image.
    expect(turned?.box.map((v) => Math.round(v * 1e9) / 1e9)).toEqual([3, 0, 5, 6]);
    expect(countOnes((await turned!.mask()).data)).toBe(12); // 2 columns x 6 rows of pixel centres
  });
});

// Datumaro's Common Semantic Segmentation with `--image-prefix image_ --mask-prefix gt_`
// (https://openvinotoolkit.github.io/datumaro/latest/docs/data-formats/formats/common_semantic_segmentation.html).
describe('CSS with image_ / gt_ prefixes', () => {
  it('pairs masks/gt_<id>.png with images/image_<id>.*', async () => {
    const root = dataset({
      'dataset_meta.json': { label_map: { '0': 'background', '1': 'cell' } },
      'images/image_1.png': rgbImagePng(4, 2),
      'masks/gt_1.png': grayMaskPng([
        [1, 1, 0, 1],
        [1, 0, 0, 1],
      ]),
    });
    const ds = await loadDataset(root);
    expect(ds.skipped).toEqual([]);
    expect(ds.subsets.default?.map((i) => i.id)).toEqual(['1']);
    expect(await rows(ds, 'default')).toEqual([
      ['cc1', 'cell', false, 3],
      ['cc2', 'cell', false, 2],
    ]);
  });
});

// Pascal VOC devkit (http://host.robots.ox.ac.uk/pascal/VOC/voc2012/devkit_doc.pdf): each <object> has a <name>.
describe('VOC object without <name>', () => {
  it('says the <name> is missing', async () => {
    const root = dataset({
      'ImageSets/Main/train.txt': 'a\n',
      'JPEGImages/a.png': PNG,
      'Annotations/a.xml':
        '<annotation><size><width>8</width><height>6</height></size><object><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>3</xmax><ymax>3</ymax></bndbox></object></annotation>',
    });
    const ds = await loadDataset(root);
    expect(ds.skipped.map((s) => s.message.split(': ').slice(-2).join(': '))).toEqual([
      'malformed annotation: expected a <name> (the class) in <object>, got none',
    ]);
  });
});

describe('a forced --format that finds nothing', () => {
  it('is an error naming what it looked for and what the folder looks like', async () => {
    const root = dataset({ 'annotations/instances_val.json': coco(cvatExport), 'images/val/a.png': PNG });
    await expect(loadDataset(root, { format: 'voc' })).rejects.toThrow(
      `loadDataset(options.format): format 'voc' found no items in '${root}'; it looks for ImageSets/ with JPEGImages/ or Annotations/; the folder looks like 'coco' (leave --format auto)`,
    );
    expect(Object.keys((await loadDataset(root, { format: 'coco' })).subsets)).toEqual(['val']);
  });
});

describe('registering an adapter', () => {
  it('twice with the same object is a no-op; a self-registering plugin that exports it as default loads', async () => {
    const a = { name: 'twice', detect: () => false, load: async () => ({ labels: [], items: [] }) };
    try {
      registerDatasetAdapter(a);
      registerDatasetAdapter(a);
      expect(listDatasetAdapters().filter((x) => x.name === 'twice')).toHaveLength(1);
      expect(() => registerDatasetAdapter({ ...a })).toThrow(/already exists/);
    } finally {
      unregisterDatasetAdapter('twice');
    }
    const plugin = new URL('./test-utils/self-registering-plugin.ts', import.meta.url).pathname;
    try {
      expect(await loadDatasetPlugins([plugin])).toEqual(['self-registering']);
    } finally {
      unregisterDatasetAdapter('self-registering');
    }
  });
});
