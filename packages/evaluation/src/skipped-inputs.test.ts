/**
 * Bad inputs during `eval` (issue 11): a truncated JPEG is reported with its file and skipped (not
 * a run-ending EmbeddingCacheError), and an invalid annotation is reported and counted instead of
 * silently scoring fewer instances. A small COCO dataset in a temp dir: dog.jpg with two boxes (one
 * reaching outside the image), truck.jpg with one box, and dog.jpg cut in half.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddingCacheError } from './embedding-cache.js';
import { evaluateCheckpoint } from './evaluate-checkpoint.js';
import { referencePath } from './test-utils/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-eval-bad-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function dataset(): string {
  const root = join(tmp, 'data');
  mkdirSync(join(root, 'valid'), { recursive: true });
  const dog = readFileSync(referencePath('dog.jpg'));
  writeFileSync(join(root, 'valid', 'dog.jpg'), dog);
  writeFileSync(join(root, 'valid', 'truck.jpg'), readFileSync(referencePath('truck.jpg')));
  writeFileSync(join(root, 'valid', 'cut.jpg'), dog.subarray(0, dog.length >> 1));
  const coco = {
    categories: [{ id: 1, name: 'thing' }],
    images: [
      { id: 1, file_name: 'dog.jpg', width: 800, height: 534 },
      { id: 2, file_name: 'truck.jpg', width: 1800, height: 1200 },
      { id: 3, file_name: 'cut.jpg', width: 800, height: 534 },
    ],
    annotations: [
      { id: 10, image_id: 1, category_id: 1, bbox: [160, 133, 400, 347] },
      { id: 11, image_id: 1, category_id: 1, bbox: [700, 400, 300, 300] },
      { id: 20, image_id: 2, category_id: 1, bbox: [500, 375, 1000, 550] },
      { id: 30, image_id: 3, category_id: 1, bbox: [160, 133, 400, 347] },
    ],
  };
  writeFileSync(join(root, 'valid', '_annotations.coco.json'), JSON.stringify(coco));
  // A train subset too, so the dataset is not split into train/val (one-subset datasets are).
  mkdirSync(join(root, 'train'), { recursive: true });
  writeFileSync(join(root, 'train', 'dog.jpg'), dog);
  writeFileSync(
    join(root, 'train', '_annotations.coco.json'),
    JSON.stringify({ ...coco, images: coco.images.slice(0, 1), annotations: coco.annotations.slice(0, 1) }),
  );
  return root;
}

describe('evaluateCheckpoint: bad inputs are reported, counted and skipped', () => {
  const root = dataset();
  const base = {
    checkpoint: referencePath('tinyvit.pth'),
    dataRoot: root,
    cacheDir: join(tmp, 'cache'),
  };

  it('a truncated JPEG and a box outside the image: reported with their files, the rest scored', async () => {
    const info: string[] = [];
    const r = await evaluateCheckpoint({
      ...base,
      onEvent: (e) => {
        if (e.type === 'info') info.push(e.message);
      },
    });
    expect(r.skipped.map((s) => [s.scope, s.file])).toEqual([
      ['annotation', join(root, 'valid', '_annotations.coco.json')],
      ['image', join(root, 'valid', 'cut.jpg')],
    ]);
    expect(r.skipped[0]?.message).toContain("annotation '11'");
    expect(r.skipped[0]?.message).toContain('within the image [0, 0, 800, 534]');
    expect(r.skipped[1]?.message).toContain(
      `EmbeddingCache.get(${join(root, 'valid', 'cut.jpg')}): the image cannot be read`,
    );
    expect(info.filter((m) => m.startsWith('skipped: '))).toHaveLength(2);
    expect(r.metrics.images).toBe(2);
    expect(r.metrics.instances).toBe(2);
    // tinyvit.pth holds random (seeded) weights: the score itself means nothing here.
    expect(r.metrics.f1).toBeGreaterThanOrEqual(0);
  }, 600_000);

  it('with strict, the bad annotation stops the evaluation', async () => {
    await expect(evaluateCheckpoint({ ...base, strict: true })).rejects.toThrow("annotation '11'");
  }, 600_000);

  it('EmbeddingCacheError marks an unreadable image', () => {
    expect(new EmbeddingCacheError('x', true).unreadableImage).toBe(true);
    expect(new EmbeddingCacheError('x').unreadableImage).toBe(false);
  });
});
