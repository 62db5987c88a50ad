/**
 * Paths read from dataset files must stay inside their folder (issues 10 and 22), one rule for every
 * reader (`resolveContained`): an absolute path, a `../` escape or a symlink to a file outside is
 * reported by name (`ImageOutsideRootError`) and the item skipped, unless `allowImagesOutsideRoot`.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveContained } from './containment.js';
import type { DatasetAdapter } from './adapter.js';
import { ImageOutsideRootError } from './errors.js';
import { loadDataset, registerDatasetAdapter, unregisterDatasetAdapter } from './registry.js';
import { grayMaskPng, rgbImagePng } from './test-utils/png-writer.js';
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
    expect(outside[0]?.message).toContain(`file_name '../outside.png' resolves outside the folder`);
    expect(outside[1]?.message).toContain(`file_name '/etc/hostname' resolves outside the folder`);
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

/** A temp folder holding `secret.png` (a valid 4x3 image), the target of every escape below. */
function secretDir(): string {
  const dir = makeDataset({ 'secret.png': IMG });
  temp.push(dir);
  return dir;
}

/** Items and the `[field, reason]` of each containment skip. */
async function outcome(root: string): Promise<{ ids: string[]; outside: string[] }> {
  const ds = await loadDataset(root);
  return {
    ids: Object.values(ds.subsets)
      .flat()
      .map((i) => i.id)
      .sort(),
    outside: ds.skipped.filter((s) => s.error instanceof ImageOutsideRootError).map((s) => s.message),
  };
}

describe('resolveContained', () => {
  it('allows names below the folder, refuses absolute, .., NUL and symlinks out', async () => {
    const root = cocoWith(['good.png']);
    const secret = secretDir();
    symlinkSync(join(secret, 'secret.png'), join(root, 'train', 'link.png'));
    symlinkSync(secret, join(root, 'train', 'linkdir'));
    const dir = join(root, 'train');
    expect(await resolveContained([dir], 'good.png')).toEqual({ inside: true, path: join(dir, 'good.png') });
    expect(await resolveContained([dir], 'sub/../good.png')).toMatchObject({ inside: true });
    expect(await resolveContained([dir], 'missing.png')).toMatchObject({ inside: true });
    expect(await resolveContained([dir], '../outside.png')).toMatchObject({
      inside: false,
      reason: "it leaves with '..'",
    });
    expect(await resolveContained([dir], join(root, 'outside.png'))).toMatchObject({
      inside: false,
      reason: 'it is absolute',
    });
    expect(await resolveContained([dir], 'a\0.png')).toMatchObject({ inside: false });
    expect(await resolveContained([dir], 'link.png')).toMatchObject({
      inside: false,
      reason: `it is a symlink to '${join(secret, 'secret.png')}'`,
    });
    expect(await resolveContained([dir], 'linkdir/secret.png')).toMatchObject({ inside: false });
    // a symlinked image folder is fine: its real path is the reference
    const alias = join(secret, 'alias');
    symlinkSync(dir, alias);
    expect(await resolveContained([alias], 'good.png')).toMatchObject({ inside: true });
  });
});

describe('every reader applies the same rule', () => {
  it('COCO: a file_name that is a symlink out of the image folder', async () => {
    const root = cocoWith(['good.png', 'link.png']);
    symlinkSync(join(secretDir(), 'secret.png'), join(root, 'train', 'link.png'));
    const { ids, outside } = await outcome(root);
    expect(ids).toEqual(['good']);
    expect(outside).toHaveLength(1);
    expect(outside[0]).toMatch(
      /file_name 'link.png' resolves outside the folder .* \(it is a symlink to '.*secret.png'\)/,
    );
    expect((await loadDataset(root, { allowImagesOutsideRoot: true })).subsets.train).toHaveLength(2);
  });

  it('Datumaro: image.path absolute, ../ and a symlink', async () => {
    const secret = secretDir();
    const item = (id: string, path: string) => ({ id, image: { path, size: [3, 4] }, annotations: [] });
    const root = makeDataset({
      'annotations/default.json': {
        categories: { label: { labels: [{ name: 'thing' }] } },
        items: [
          item('good', 'good.png'),
          item('abs', join(secret, 'secret.png')),
          item('up', '../../../secret.png'),
          item('link', 'link.png'),
        ],
      },
      'images/default/good.png': IMG,
    });
    temp.push(root);
    symlinkSync(join(secret, 'secret.png'), join(root, 'images', 'default', 'link.png'));
    const { ids, outside } = await outcome(root);
    expect(ids).toEqual(['good']);
    expect(
      outside.map((m) =>
        /image.path '[^']*' resolves outside the folder .*\((it is absolute|it leaves with '..'|it is a symlink to .*)\)/
          .exec(m)?.[1]
          ?.slice(0, 9),
      ),
    ).toEqual(['it is abs', 'it leaves', 'it is a s']);
  });

  it('VOC: an ImageSets id, a <filename> and a mask that leave their folders', async () => {
    const secret = secretDir();
    const xml = (file: string) =>
      `<annotation><filename>${file}</filename><size><width>4</width><height>3</height></size></annotation>`;
    const root = makeDataset({
      'ImageSets/Segmentation/train.txt': `good\n../../${secret.slice(1)}/secret\nescape\nmasked\n`,
      'JPEGImages/good.png': IMG,
      'JPEGImages/masked.png': IMG,
      'Annotations/escape.xml': xml('../../outside/secret.png'),
    });
    temp.push(root);
    mkdirSync(join(root, 'SegmentationClass'));
    const mask = makeDataset({
      'm.png': grayMaskPng([
        [1, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
      ]),
    });
    temp.push(mask);
    symlinkSync(join(mask, 'm.png'), join(root, 'SegmentationClass', 'masked.png'));
    const { ids, outside } = await outcome(root);
    expect(ids).toEqual(['good']);
    expect(outside).toHaveLength(3);
    expect(outside[0]).toMatch(
      /ImageSets id '.*secret.xml' resolves outside the folder '.*Annotations' \(it leaves with '..'\)/,
    );
    expect(outside[1]).toMatch(/<filename> '..\/..\/outside\/secret.png' resolves outside the folder '.*JPEGImages'/);
    expect(outside[2]).toMatch(/mask 'masked.png' resolves outside the folder '.*SegmentationClass' \(it is a symlink/);
  });

  it('CSS: an image that is a symlink out of images/', async () => {
    const secret = secretDir();
    const meta = { label_map: { '0': 'background', '1': 'cell' } };
    const m = grayMaskPng([
      [1, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    const root = makeDataset({ 'dataset_meta.json': meta, 'images/a.png': IMG, 'masks/a.png': m, 'masks/b.png': m });
    temp.push(root);
    symlinkSync(join(secret, 'secret.png'), join(root, 'images', 'b.png'));
    const { ids, outside } = await outcome(root);
    expect(ids).toEqual(['a']);
    expect(outside[0]).toMatch(/image 'b.png' resolves outside the folder '.*images' \(it is a symlink/);
  });

  it('a plugin adapter gets the same check from its context', async () => {
    const adapter: DatasetAdapter = {
      name: 'list-txt',
      detect: (root) => root.includes('list-txt'),
      async load(root, ctx) {
        const items = [];
        for (const name of ['good.png', '../outside.png']) {
          const loc = { reader: 'list-txt', file: join(root, 'list.txt'), itemId: name };
          const path = await ctx.containedPath([root], name, loc, 'line');
          const size = path && (await ctx.checkImage(path, loc));
          if (path && size) items.push({ id: name, subset: 'train', imagePath: path, ...size, instances: [] });
        }
        return { labels: [], items };
      },
    };
    registerDatasetAdapter(adapter);
    try {
      const root = makeDataset({ 'good.png': IMG }, 'samtune-list-txt-');
      temp.push(root);
      const { ids, outside } = await outcome(root);
      expect(ids).toEqual(['good.png']);
      expect(outside[0]).toMatch(/line '..\/outside.png' resolves outside the folder/);
    } finally {
      unregisterDatasetAdapter('list-txt');
    }
  });
});
