/**
 * Issue 23, acceptance 2: a CVAT "COCO 1.0" export drawn only with the mask tool (CVAT writes every
 * mask object as an uncompressed RLE with `iscrowd: 1`; https://docs.cvat.ai/docs/manual/advanced/formats/format-coco/)
 * trains on all its objects and `eval` reports every object; with `data.crowd ignore` the run stops
 * before training, saying why, instead of training on 0 instances and exiting 0.
 * The export: two plant-mini photos, their Roboflow polygons rasterised into CVAT-style RLE masks,
 * in CVAT's layout (`annotations/instances_default.json`, `images/default/`), one subset.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { maskToRle, polygonBounds, rasterizePolygon } from '@samtune/datasets';
import { evaluateCheckpoint } from '@samtune/evaluation';
import type { TrainConfig } from './config.js';
import { oneEpochConfig } from './test-utils/run-config.js';
import { readRunLog } from './run-log.js';
import { referencePath, repoPath } from './test-utils/fixtures.js';
import { runTraining } from './trainer.js';
import { NoUsableInstancesError } from './usable-data.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-cvat-crowd-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface CocoDoc {
  images: { id: number; file_name: string; width: number; height: number }[];
  annotations: { id: number; image_id: number; category_id: number; segmentation: number[][] }[];
  categories: { id: number; name: string }[];
}

const xywh = ([x1, y1, x2, y2]: readonly number[]): number[] => [
  x1 ?? 0,
  y1 ?? 0,
  (x2 ?? 0) - (x1 ?? 0),
  (y2 ?? 0) - (y1 ?? 0),
];

/** The CVAT mask-only export; returns its root and the object count per image. */
function cvatMaskExport(): { root: string; perImage: number[] } {
  const src = repoPath('examples/plant-mini/train');
  const doc = JSON.parse(readFileSync(join(src, '_annotations.coco.json'), 'utf8')) as CocoDoc;
  const images = doc.images.slice(0, 2);
  const root = join(tmp, 'cvat');
  mkdirSync(join(root, 'images', 'default'), { recursive: true });
  mkdirSync(join(root, 'annotations'), { recursive: true });
  const annotations: Record<string, unknown>[] = [];
  const perImage = images.map((im) => {
    copyFileSync(join(src, im.file_name), join(root, 'images', 'default', im.file_name));
    const anns = doc.annotations.filter((a) => a.image_id === im.id && a.segmentation.length > 0);
    for (const a of anns) {
      const data = new Uint8Array(im.width * im.height);
      for (const poly of a.segmentation) rasterizePolygon(poly, im.height, im.width, data);
      annotations.push({
        id: annotations.length + 1,
        image_id: im.id,
        category_id: a.category_id,
        segmentation: { size: [im.height, im.width], counts: maskToRle({ width: im.width, height: im.height, data }) },
        area: data.reduce((s, v) => s + v, 0),
        bbox: xywh(polygonBounds(a.segmentation)),
        iscrowd: 1,
        attributes: { occluded: false },
      });
    }
    return anns.length;
  });
  writeFileSync(
    join(root, 'annotations', 'instances_default.json'),
    JSON.stringify({
      licenses: [{ name: '', id: 0, url: '' }],
      info: { contributor: '', date_created: '', description: '', url: '', version: '', year: '' },
      categories: doc.categories.map((c) => ({ id: c.id, name: c.name, supercategory: '' })),
      images: images.map((im) => ({ id: im.id, file_name: im.file_name, width: im.width, height: im.height })),
      annotations,
    }),
  );
  return { root, perImage };
}

const config = (out: string, root: string): TrainConfig => oneEpochConfig(tmp, out, root);

describe('CVAT mask-only export (every object iscrowd 1)', () => {
  const { root, perImage } = cvatMaskExport();
  const total = perImage.reduce((a, b) => a + b, 0);

  it('trains and validates on every object (crowd kept by default), and says how many are crowd', async () => {
    expect(perImage.every((n) => n > 0)).toBe(true);
    const c = config('keep', root);
    const r = await runTraining(c);
    expect(r.epochs).toBe(1);
    const log = readRunLog(join(c.out, 'train.jsonl'));
    const ds = log.find((e) => e.type === 'dataset') as Record<string, unknown>;
    // Two images, one subset, val-fraction 0.2: one training and one validation image.
    expect([ds.train, ds.val]).toEqual([1, 1]);
    const crowd = ds.crowd as { train: number; val: number; policy: string };
    expect(crowd.train + crowd.val).toBe(total);
    expect(crowd.policy).toBe('keep');
    // Every object of the training image is a prompt; every object of the validation image is scored.
    expect(log.filter((e) => e.type === 'step').map((e) => e.prompts)).toEqual([crowd.train]);
    const zeroShot = log.find((e) => e.type === 'eval-done' && e.phase === 'zero-shot') as {
      metrics: { instances: number; crowd: number };
    };
    expect([zeroShot.metrics.instances, zeroShot.metrics.crowd]).toEqual([crowd.val, crowd.val]);
    expect(readFileSync(join(c.out, 'report.md'), 'utf8')).toContain(`${crowd.val} (${crowd.val} crowd)`);
  }, 900_000);

  it('eval of the lone annotations file evaluates every image and reports every object', async () => {
    const r = await evaluateCheckpoint({
      checkpoint: referencePath('tinyvit.pth'),
      dataRoot: join(root, 'annotations', 'instances_default.json'),
      cacheDir: join(tmp, 'cache'),
    });
    expect(r.subset).toBe('default');
    expect(r.skipped).toEqual([]);
    expect([r.metrics.images, r.metrics.instances, r.metrics.crowd, r.metrics.crowdIgnored]).toEqual([
      2,
      total,
      total,
      0,
    ]);
    const ignored = await evaluateCheckpoint({
      checkpoint: referencePath('tinyvit.pth'),
      dataRoot: join(root, 'annotations', 'instances_default.json'),
      cacheDir: join(tmp, 'cache'),
      crowd: 'ignore',
    });
    expect([ignored.metrics.instances, ignored.metrics.crowdIgnored]).toEqual([0, total]);
  }, 900_000);

  it("with data.crowd 'ignore' the run stops before training, saying why, and writes no checkpoint", async () => {
    const c = config('ignore', root);
    c.data.crowd = 'ignore';
    const err = await runTraining(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoUsableInstancesError);
    expect((err as Error).message).toMatch(
      /^runTraining: the training subset 'train' has 0 usable instances \(1 images, \d+ instances\); \d+ are crowd regions left out by data.crowd 'ignore' \(CVAT writes every mask-tool object as iscrowd 1\): use --crowd keep \(data.crowd keep\) to train on them. Nothing was trained$/,
    );
    expect(existsSync(join(c.out, 'best.safetensors'))).toBe(false);
  }, 900_000);
});
