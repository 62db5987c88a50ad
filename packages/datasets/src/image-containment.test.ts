/**
 * COCO `file_name`s must stay inside the dataset's image folder (issue 10): an absolute path or a
 * `../` escape is reported by name and the item skipped, unless `allowImagesOutsideRoot` is set.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ImageOutsideRootError } from './errors.js';
import { loadDataset } from './registry.js';
import { rgbImagePng } from './test-utils/png-writer.js';
import { makeDataset, removeDataset } from './test-utils/tmp-dataset.js';

const temp: string[] = [];
afterAll(() => temp.forEach(removeDataset));
const IMG = rgbImagePng(4, 3);

function cocoWith(fileNames: string[]): string {
  const root = makeDataset({
    'train/_annotations.coco.json': {
      images: fileNames.map((f, i) => ({ id: i + 1, file_name: f, width: 4, height: 3 })),
      categories: [{ id: 1, name: 'thing' }],
      annotations: fileNames.map((_, i) => ({ id: 10 + i, image_id: i + 1, category_id: 1, bbox: [0, 0, 2, 2] })),
    },
    'train/good.png': IMG,
    'outside.png': IMG,
  });
  temp.push(root);
  return root;
}

describe('COCO file_name containment', () => {
  it('skips absolute and ../ file_names by name, keeps the good item', async () => {
    const root = cocoWith(['good.png', '../outside.png', `${'/'}etc/hostname`]);
    const ds = await loadDataset(root);
    expect(ds.subsets.train?.map((i) => i.id)).toEqual(['good']);
    const outside = ds.skipped.filter((s) => s.error instanceof ImageOutsideRootError);
    expect(outside.map((s) => s.kind)).toEqual(['image-outside-root', 'image-outside-root']);
    expect(outside[0]?.message).toContain(`file_name '../outside.png' resolves outside the image folder`);
    expect(outside[1]?.message).toContain(`file_name '/etc/hostname' resolves outside the image folder`);
    await expect(loadDataset(root, { strict: true })).rejects.toThrow(ImageOutsideRootError);
  });

  it('reads them when the user allows it', async () => {
    const root = cocoWith(['good.png', '../outside.png']);
    const ds = await loadDataset(root, { allowImagesOutsideRoot: true });
    expect(ds.subsets.train?.map((i) => i.id).sort()).toEqual(['../outside', 'good']);
  });

  it('takes its default from SAMTUNE_ALLOW_IMAGES_OUTSIDE_ROOT=1', async () => {
    const root = cocoWith(['good.png', '../outside.png']);
    process.env.SAMTUNE_ALLOW_IMAGES_OUTSIDE_ROOT = '1';
    try {
      expect((await loadDataset(root)).subsets.train).toHaveLength(2);
    } finally {
      delete process.env.SAMTUNE_ALLOW_IMAGES_OUTSIDE_ROOT;
    }
  });
});
