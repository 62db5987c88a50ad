/**
 * Bad input: every case builds a small broken dataset in a temp dir next to one good item, loads it
 * (1) by default: exactly one reported, skipped entry of the right class, the good item survives,
 * nothing throws; (2) with `strict: true`: loading rejects with that same error class.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as errors from './errors.js';
import { summarizeDataset } from './inspect.js';
import { loadDataset } from './registry.js';
import { encodePng, grayMaskPng, rgbImagePng } from './test-utils/png-writer.js';
import { makeDataset, removeDataset, type FileContent } from './test-utils/tmp-dataset.js';

const temp: string[] = [];
afterAll(() => temp.forEach(removeDataset));

const IMG = rgbImagePng(4, 3);

type Files = Record<string, FileContent>;
interface Case {
  readonly name: string;
  readonly files: Files;
  readonly error: new (...args: never[]) => errors.DatasetError;
  readonly scope: errors.SkipScope;
  /** Text the message must contain (besides the file). */
  readonly says: string;
  readonly itemId?: string;
  /** The good item that must survive (subset/id), unless the whole file is gone. */
  readonly survivor?: string;
  readonly options?: { imageCheck?: 'header' | 'decode' };
}

// ---------- COCO ----------
function coco(extra: { images?: unknown[]; anns?: unknown[]; cats?: unknown[] } = {}, files: Files = {}): Files {
  return {
    'annotations/instances_train.json': {
      images: [{ id: 1, file_name: 'good.png', width: 4, height: 3 }, ...(extra.images ?? [])],
      categories: extra.cats ?? [{ id: 1, name: 'thing' }],
      annotations: [
        { id: 100, image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], segmentation: [[0, 0, 2, 0, 2, 2]] },
        ...(extra.anns ?? []),
      ],
    },
    'images/train/good.png': IMG,
    ...files,
  };
}
const badImg = { id: 2, file_name: 'bad.png', width: 4, height: 3 };
const ann = (seg: unknown, more: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: 200,
  image_id: 1,
  category_id: 1,
  segmentation: seg,
  bbox: [0, 0, 1, 1],
  ...more,
});
const truncatedPng = Uint8Array.from(IMG.subarray(0, IMG.length - 30));

// ---------- VOC ----------
const vocXml = (objs: string, w = 4, h = 3): string =>
  `<annotation><size><width>${w}</width><height>${h}</height></size>${objs}</annotation>`;
const vocObj = (name: string, b: string): string => `<object><name>${name}</name><bndbox>${b}</bndbox></object>`;
function voc(files: Files): Files {
  return {
    'ImageSets/Main/train.txt': 'good\nbad\n',
    'JPEGImages/good.png': IMG,
    'JPEGImages/bad.png': IMG,
    'Annotations/good.xml': vocXml(vocObj('cat', '<xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax>')),
    ...files,
  };
}

// ---------- CSS ----------
const cssMeta = { label_map: { '0': 'background', '1': 'cell' }, background_label: '0' };
function css(files: Files): Files {
  return {
    'dataset_meta.json': cssMeta,
    'images/good.png': IMG,
    'masks/good.png': grayMaskPng([
      [1, 1, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 1],
    ]),
    ...files,
  };
}

// ---------- Datumaro ----------
function dm(items: unknown[], files: Files = {}): Files {
  return {
    'annotations/train.json': {
      categories: { label: { labels: [{ name: 'cat' }] } },
      items: [
        {
          id: 'good',
          image: { path: 'good.png', size: [3, 4] },
          annotations: [{ id: 1, type: 'bbox', label_id: 0, bbox: [0, 0, 2, 2] }],
        },
        ...items,
      ],
    },
    'images/train/good.png': IMG,
    'images/train/bad.png': IMG,
    ...files,
  };
}

const CASES: Case[] = [
  // COCO
  {
    name: 'coco: missing image',
    files: coco({ images: [badImg] }),
    error: errors.MissingImageError,
    scope: 'item',
    says: 'does not exist',
    itemId: 'bad',
    survivor: 'train/good',
  },
  {
    name: 'coco: unreadable image header',
    files: coco({ images: [badImg] }, { 'images/train/bad.png': IMG.subarray(0, 20) }),
    error: errors.UnreadableImageError,
    scope: 'item',
    says: 'unreadable or truncated',
    itemId: 'bad',
    survivor: 'train/good',
  },
  {
    name: 'coco: truncated image data (imageCheck decode)',
    files: coco({ images: [badImg] }, { 'images/train/bad.png': truncatedPng }),
    error: errors.UnreadableImageError,
    scope: 'item',
    says: 'unreadable or truncated',
    itemId: 'bad',
    survivor: 'train/good',
    options: { imageCheck: 'decode' },
  },
  {
    name: 'coco: image size differs from the declared size',
    files: coco({ images: [{ ...badImg, width: 5 }] }, { 'images/train/bad.png': IMG }),
    error: errors.ImageSizeMismatchError,
    scope: 'item',
    says: 'declared image size (H,W)=(3,5) but the image file is (3,4)',
    itemId: 'bad',
    survivor: 'train/good',
  },
  {
    name: 'coco: polygon with 2 points',
    files: coco({ anns: [ann([[0, 0, 1, 1]])] }),
    error: errors.InvalidPolygonError,
    scope: 'annotation',
    says: 'expected at least 3 points (6 coordinates), got 2 point(s)',
    itemId: 'good',
    survivor: 'train/good',
  },
  {
    name: 'coco: polygon with an odd number of coordinates',
    files: coco({ anns: [ann([[0, 0, 1, 1, 2, 2, 3]])] }),
    error: errors.InvalidPolygonError,
    scope: 'annotation',
    says: 'expected an even number of coordinates, got 7',
    itemId: 'good',
    survivor: 'train/good',
  },
  {
    name: 'coco: polygon with a non-numeric coordinate',
    files: coco({ anns: [ann([[0, 0, 1, 'x', 2, 2]])] }),
    error: errors.InvalidPolygonError,
    scope: 'annotation',
    says: 'got "x" at index 3',
    itemId: 'good',
    survivor: 'train/good',
  },
  {
    name: 'coco: box outside the image',
    files: coco({ anns: [ann([], { bbox: [3, 2, 5, 5] })] }),
    error: errors.InvalidBoxError,
    scope: 'annotation',
    says: 'within the image [0, 0, 4, 3]',
    itemId: 'good',
    survivor: 'train/good',
  },
  {
    name: 'coco: box with zero area',
    files: coco({ anns: [ann([], { bbox: [1, 1, 0, 2] })] }),
    error: errors.InvalidBoxError,
    scope: 'annotation',
    says: 'expected positive width and height',
    itemId: 'good',
    survivor: 'train/good',
  },
  {
    name: 'coco: RLE size differs from the image',
    files: coco({ anns: [ann({ size: [4, 4], counts: [16] })] }),
    error: errors.RleSizeMismatchError,
    scope: 'annotation',
    says: 'RLE size [h,w]=[4,4] but the image is [3,4]',
    itemId: 'good',
    survivor: 'train/good',
  },
  {
    name: 'coco: RLE counts do not sum to h*w',
    files: coco({ anns: [ann({ size: [3, 4], counts: [5, 2] })] }),
    error: errors.InvalidRleError,
    scope: 'annotation',
    says: 'sum to h*w = 3*4 = 12, got 7',
    itemId: 'good',
    survivor: 'train/good',
  },
  {
    name: 'coco: RLE string with an invalid character',
    files: coco({ anns: [ann({ size: [3, 4], counts: '5~' })] }),
    error: errors.InvalidRleError,
    scope: 'annotation',
    says: "expected characters '0'..'o'",
    itemId: 'good',
    survivor: 'train/good',
  },
  {
    name: 'coco: unknown category id',
    files: coco({ anns: [ann([], { category_id: 9 })] }),
    error: errors.UnknownCategoryError,
    scope: 'annotation',
    says: 'unknown category 9; declared: [1]',
    itemId: 'good',
    survivor: 'train/good',
  },
  {
    name: 'coco: duplicate image id',
    files: coco({ images: [{ ...badImg, id: 1 }] }),
    error: errors.DuplicateIdError,
    scope: 'item',
    says: 'duplicate image id 1',
    itemId: '1',
    survivor: 'train/good',
  },
  {
    name: 'coco: duplicate annotation id',
    files: coco({ anns: [ann([], { id: 100 })] }),
    error: errors.DuplicateIdError,
    scope: 'annotation',
    says: 'duplicate annotation id "100"',
    survivor: 'train/good',
  },
  {
    name: 'coco: annotation of an unknown image',
    files: coco({ anns: [ann([], { image_id: 42 })] }),
    error: errors.MalformedAnnotationError,
    scope: 'annotation',
    says: "refers to image_id 42, which is not in 'images'",
    survivor: 'train/good',
  },
  {
    name: 'coco: malformed JSON',
    files: { ...coco(), 'annotations/instances_val.json': '{"images": [' },
    error: errors.MalformedAnnotationError,
    scope: 'file',
    says: 'cannot parse JSON',
    survivor: 'train/good',
  },
  // VOC
  {
    name: 'voc: malformed XML',
    files: voc({ 'Annotations/bad.xml': '<annotation><size><width>4</width></annotation>' }),
    error: errors.MalformedAnnotationError,
    scope: 'item',
    says: 'invalid XML at line 1',
    itemId: 'bad',
    survivor: 'train/good',
  },
  {
    name: 'voc: unknown class name',
    files: voc({
      'Annotations/bad.xml': vocXml(vocObj('unicorn', '<xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax>')),
    }),
    error: errors.UnknownCategoryError,
    scope: 'annotation',
    says: 'unknown category "unicorn"',
    itemId: 'bad',
    survivor: 'train/good',
  },
  {
    name: 'voc: box with xmax < xmin',
    files: voc({
      'Annotations/bad.xml': vocXml(vocObj('dog', '<xmin>3</xmin><ymin>1</ymin><xmax>1</xmax><ymax>2</ymax>')),
    }),
    error: errors.InvalidBoxError,
    scope: 'annotation',
    says: 'expected positive width and height',
    itemId: 'bad',
    survivor: 'train/good',
  },
  {
    name: 'voc: instance mask size differs from the image',
    files: voc({
      'SegmentationObject/bad.png': encodePng({ width: 5, height: 3, colorType: 0, data: new Array(15).fill(1) }),
    }),
    error: errors.MaskSizeMismatchError,
    scope: 'item',
    says: 'is (H,W)=(3,5) but the image is (3,4)',
    itemId: 'bad',
    survivor: 'train/good',
  },
  {
    name: 'voc: empty image file',
    files: { ...voc({}), 'JPEGImages/bad.png': '' },
    error: errors.UnreadableImageError,
    scope: 'item',
    says: 'unreadable or truncated',
    itemId: 'bad',
    survivor: 'train/good',
  },
  // CSS
  {
    name: 'css: mask size differs from the image',
    files: css({ 'images/bad.png': IMG, 'masks/bad.png': grayMaskPng([[1, 1]]) }),
    error: errors.MaskSizeMismatchError,
    scope: 'item',
    says: 'is (H,W)=(1,2) but the image is (3,4)',
    itemId: 'bad',
    survivor: 'default/good',
  },
  {
    name: 'css: undeclared class id in a mask',
    files: css({
      'images/bad.png': IMG,
      'masks/bad.png': grayMaskPng([
        [7, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
      ]),
    }),
    error: errors.UnknownCategoryError,
    scope: 'annotation',
    says: 'unknown category 7; declared: [1]',
    itemId: 'bad',
    survivor: 'default/good',
  },
  {
    name: 'css: corrupt mask PNG',
    files: css({
      'images/bad.png': IMG,
      'masks/bad.png': grayMaskPng([
        [1, 1, 1, 1],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
      ]).subarray(0, 40),
    }),
    error: errors.UnreadableMaskError,
    scope: 'item',
    says: 'truncated',
    itemId: 'bad',
    survivor: 'default/good',
  },
  {
    name: 'css: mask without an image',
    files: css({ 'masks/bad.png': grayMaskPng([[1]]) }),
    error: errors.MissingImageError,
    scope: 'item',
    says: 'does not exist',
    itemId: 'bad',
    survivor: 'default/good',
  },
  {
    name: 'css: RGB colour not in segmentation_colors',
    files: css({
      'dataset_meta.json': {
        ...cssMeta,
        segmentation_colors: [
          [0, 0, 0],
          [255, 0, 0],
        ],
      },
      'masks/good.png': encodePng({ width: 4, height: 3, colorType: 2, data: [255, 0, 0, ...new Array(33).fill(0)] }),
      'images/bad.png': IMG,
      'masks/bad.png': encodePng({ width: 4, height: 3, colorType: 2, data: [9, 9, 9, ...new Array(33).fill(0)] }),
    }),
    error: errors.UnreadableMaskError,
    scope: 'item',
    says: 'colour (9,9,9) at (x,y)=(0,0) maps to no label',
    itemId: 'bad',
    survivor: 'default/good',
  },
  // Datumaro
  {
    name: 'datumaro: duplicate item id',
    files: dm([{ id: 'good', image: { path: 'bad.png' }, annotations: [] }]),
    error: errors.DuplicateIdError,
    scope: 'item',
    says: 'duplicate item id "good"',
    itemId: 'good',
    survivor: 'train/good',
  },
  {
    name: 'datumaro: mask RLE size differs from the image',
    files: dm([
      {
        id: 'bad',
        image: { path: 'bad.png' },
        annotations: [{ id: 3, type: 'mask', label_id: 0, rle: { size: [2, 2], counts: [4] } }],
      },
    ]),
    error: errors.RleSizeMismatchError,
    scope: 'annotation',
    says: 'RLE size [h,w]=[2,2] but the image is [3,4]',
    itemId: 'bad',
    survivor: 'train/good',
  },
  {
    name: 'datumaro: label id out of range',
    files: dm([
      {
        id: 'bad',
        image: { path: 'bad.png' },
        annotations: [{ id: 3, type: 'polygon', label_id: 4, points: [0, 0, 1, 0, 1, 1] }],
      },
    ]),
    error: errors.UnknownCategoryError,
    scope: 'annotation',
    says: 'unknown category 4; declared: [0]',
    itemId: 'bad',
    survivor: 'train/good',
  },
  {
    name: 'datumaro: polygon with 2 points',
    files: dm([
      {
        id: 'bad',
        image: { path: 'bad.png' },
        annotations: [{ id: 3, type: 'polygon', label_id: 0, points: [0, 0, 1, 1] }],
      },
    ]),
    error: errors.InvalidPolygonError,
    scope: 'annotation',
    says: 'expected at least 3 points',
    itemId: 'bad',
    survivor: 'train/good',
  },
];

describe('bad input: reported and skipped by default, thrown with strict', () => {
  it('has at least 20 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(20);
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const root = makeDataset(c.files);
      temp.push(root);
      const ds = await loadDataset(root, c.options);
      expect(ds.skipped.map((s) => s.error.name)).toEqual([c.error.name]);
      const [s] = ds.skipped;
      expect(s?.error).toBeInstanceOf(c.error);
      expect(s?.error).toBeInstanceOf(errors.DatasetError);
      expect(s?.scope).toBe(c.scope);
      expect(s?.message).toContain(c.says);
      expect(s?.message).toContain(s?.file);
      expect(s?.file.startsWith(root)).toBe(true);
      if (c.itemId !== undefined) expect(s?.itemId).toBe(c.itemId);
      if (c.survivor) {
        const [subset, id] = c.survivor.split('/') as [string, string];
        expect(ds.subsets[subset]?.some((i) => i.id === id)).toBe(true);
        // The survivor's own instances are intact (one each in these builders).
        expect(ds.subsets[subset]?.find((i) => i.id === id)?.instances.length).toBeGreaterThanOrEqual(1);
      }
      // The skip is counted in its subset.
      const summary = summarizeDataset(ds);
      expect(Object.values(summary.subsets).reduce((n, x) => n + x.skipped, 0)).toBe(1);
      await expect(loadDataset(root, { ...c.options, strict: true })).rejects.toBeInstanceOf(c.error);
    });
  }

  it('accepts a truncated image with the default header check (documented limit)', async () => {
    const root = makeDataset(coco({ images: [badImg] }, { 'images/train/bad.png': truncatedPng }));
    temp.push(root);
    const ds = await loadDataset(root);
    expect(ds.skipped).toEqual([]);
    expect(ds.subsets.train?.map((i) => i.id)).toEqual(['good', 'bad']);
  });

  it('reports several problems of one dataset, with counts per subset', async () => {
    const root = makeDataset(
      coco(
        {
          images: [badImg, { id: 3, file_name: 'c.png', width: 4, height: 3 }],
          anns: [
            ann([[0, 0]]),
            ann([], { id: 201, category_id: 5 }),
            ann([], { id: 202, image_id: 3, bbox: [0, 0, 9, 9] }),
          ],
        },
        { 'images/train/c.png': IMG },
      ),
    );
    temp.push(root);
    const ds = await loadDataset(root);
    expect(ds.skipped.map((s) => s.kind).sort()).toEqual([
      'invalid-box',
      'invalid-polygon',
      'missing-image',
      'unknown-category',
    ]);
    expect(summarizeDataset(ds).subsets).toEqual({ train: { images: 2, instances: 1, crowd: 0, skipped: 4 } });
  });
});
