/**
 * Small inputs that used to take huge memory (issue 22): mask PNGs whose header is checked against
 * the image before anything is inflated (and whose inflation stops at what the header needs), and
 * polygons with huge coordinates, clipped before their outline is walked. Each bad item is reported
 * by name and skipped, or (polygons) rasterised within the image; the good item survives.
 */
import { deflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { MaskSizeMismatchError, UnreadableImageError, UnreadableMaskError } from './errors.js';
import { loadDataset } from './registry.js';
import { grayMaskPng, pngWithIdat, rgbImagePng } from './test-utils/png-writer.js';
import { countOnes, makeDataset, removeDataset, type FileContent } from './test-utils/tmp-dataset.js';

const temp: string[] = [];
afterAll(() => temp.forEach(removeDataset));
const IMG = rgbImagePng(4, 3);
const GOOD_MASK = grayMaskPng([
  [1, 0, 0, 0],
  [0, 0, 0, 0],
  [0, 0, 0, 0],
]);
/** A 20000x15000 header (300 MB of samples) over 16 MB of zeros deflated to ~16 KB. */
const HUGE_HEADER = pngWithIdat(20_000, 15_000, deflateSync(Buffer.alloc(16 << 20)));
/** A 4x3 header (15 bytes of scanlines) over 16 MB of zeros. */
const OVERLONG = pngWithIdat(4, 3, deflateSync(Buffer.alloc(16 << 20)));

function dataset(files: Record<string, FileContent>): string {
  const root = makeDataset(files);
  temp.push(root);
  return root;
}

describe('mask PNG bombs (CSS, VOC)', () => {
  const css = (bad: Buffer): string =>
    dataset({
      'dataset_meta.json': { label_map: { '0': 'background', '1': 'cell' } },
      'images/good.png': IMG,
      'masks/good.png': GOOD_MASK,
      'images/bad.png': IMG,
      'masks/bad.png': bad,
    });
  const voc = (bad: Buffer): string =>
    dataset({
      'ImageSets/Segmentation/train.txt': 'good\nbad\n',
      'JPEGImages/good.png': IMG,
      'JPEGImages/bad.png': IMG,
      'SegmentationClass/good.png': GOOD_MASK,
      'SegmentationClass/bad.png': bad,
    });

  it.each([
    [
      'a header larger than the image is refused before inflating',
      HUGE_HEADER,
      MaskSizeMismatchError,
      "bad.png' is (H,W)=(15000,20000) but the image is (3,4)",
    ],
    [
      'image data inflating past the header is refused where it passes it',
      OVERLONG,
      UnreadableMaskError,
      'image data inflates past the 15 bytes its 4x3 header needs',
    ],
  ] as const)('%s', async (_, bomb, error, says) => {
    expect(bomb.length).toBeLessThan(64 << 10);
    for (const root of [css(bomb), voc(bomb)]) {
      const ds = await loadDataset(root);
      expect(
        Object.values(ds.subsets)
          .flat()
          .map((i) => i.id),
      ).toEqual(['good']);
      expect(ds.skipped.map((s) => [s.error.constructor, s.itemId])).toEqual([[error, 'bad']]);
      expect(ds.skipped[0]?.message).toContain(says);
    }
  });
});

describe('polygons with huge coordinates (COCO)', () => {
  it('are clipped to the image before walking: masks within the image, nothing skipped', async () => {
    const poly = (big: number): number[] => [-big, -big, big, -big, 0, big];
    const root = dataset({
      'annotations/instances_train.json': {
        images: [{ id: 1, file_name: 'a.png', width: 4, height: 3 }],
        categories: [{ id: 1, name: 'thing' }],
        annotations: [2e7, 4.3e8].map((big, i) => ({
          id: i + 1,
          image_id: 1,
          category_id: 1,
          bbox: [0, 0, 4, 3],
          segmentation: [poly(big)],
        })),
      },
      'images/train/a.png': IMG,
    });
    const ds = await loadDataset(root);
    expect(ds.skipped).toEqual([]);
    const masks = await Promise.all((ds.subsets.train?.[0]?.instances ?? []).map((i) => i.mask()));
    expect(masks.map((m) => countOnes(m.data))).toEqual([12, 12]);
  });
});

describe('images whose header declares more than sharp decodes (16383 x 16383)', () => {
  it('are skipped at load: their masks (W*H bytes each) are never made', async () => {
    const huge = pngWithIdat(60_000, 60_000, deflateSync(Buffer.alloc(1024)));
    const images = [
      { id: 1, file_name: 'good.png', width: 4, height: 3 },
      { id: 2, file_name: 'huge.png', width: 60_000, height: 60_000 },
    ];
    const root = dataset({
      'annotations/instances_train.json': {
        images,
        categories: [{ id: 1, name: 'thing' }],
        annotations: images.map((im) => ({ id: im.id, image_id: im.id, category_id: 1, bbox: [0, 0, 2, 2] })),
      },
      'images/train/good.png': IMG,
      'images/train/huge.png': huge,
    });
    const ds = await loadDataset(root);
    expect(ds.subsets.train?.map((i) => i.id)).toEqual(['good']);
    expect(ds.skipped[0]?.error).toBeInstanceOf(UnreadableImageError);
    expect(ds.skipped[0]?.message).toContain('huge.png');
    expect(ds.skipped[0]?.message).toContain('exceeds pixel limit');
  });
});
