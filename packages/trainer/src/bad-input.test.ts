/**
 * A truncated JPEG among the training images (issue 11): without --strict it is reported with its
 * file and left out, and the run goes on; with --strict the run stops at it. A small Roboflow-style
 * COCO dataset in a temp dir: train = dog.jpg, truck.jpg and dog.jpg cut in half; valid = dog.jpg.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddingCacheError } from '@samtune/evaluation';
import type { TrainConfig } from './config.js';
import { oneEpochConfig } from './test-utils/run-config.js';
import { readRunLog } from './run-log.js';
import { referencePath } from './test-utils/fixtures.js';
import { runTraining } from './trainer.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-badimg-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function dataset(): string {
  const root = join(tmp, 'data');
  const dog = readFileSync(referencePath('dog.jpg'));
  const box = (id: number, image: number): Record<string, unknown> => ({
    id,
    image_id: image,
    category_id: 1,
    bbox: [160, 133, 400, 347],
  });
  const subsets: Record<string, [string, Buffer][]> = {
    train: [
      ['dog.jpg', dog],
      ['truck.jpg', readFileSync(referencePath('truck.jpg'))],
      ['cut.jpg', dog.subarray(0, dog.length >> 1)],
    ],
    valid: [['dog.jpg', dog]],
  };
  for (const [subset, files] of Object.entries(subsets)) {
    mkdirSync(join(root, subset), { recursive: true });
    for (const [name, bytes] of files) writeFileSync(join(root, subset, name), bytes);
    const images = files.map(([name], i) =>
      name === 'truck.jpg'
        ? { id: i + 1, file_name: name, width: 1800, height: 1200 }
        : { id: i + 1, file_name: name, width: 800, height: 534 },
    );
    writeFileSync(
      join(root, subset, '_annotations.coco.json'),
      JSON.stringify({
        categories: [{ id: 1, name: 'thing' }],
        images,
        annotations: images.map((im) => box(im.id * 10, im.id)),
      }),
    );
  }
  return root;
}

const config = (out: string, root: string): TrainConfig => oneEpochConfig(tmp, out, root);

describe('a truncated JPEG among the training images', () => {
  const root = dataset();
  const cut = join(root, 'train', 'cut.jpg');

  it('is reported with its file and skipped; training finishes on the others', async () => {
    const c = config('run', root);
    const r = await runTraining(c);
    expect(r.epochs).toBe(1);
    const log = readRunLog(join(c.out, 'train.jsonl'));
    const skipped = log.filter((e) => e.type === 'info' && String(e.message).startsWith('skipped: '));
    expect(skipped.map((e) => e.message)).toEqual([
      expect.stringContaining(`skipped: EmbeddingCache.get(${cut}): the image cannot be read`),
    ]);
    // 2 readable train images, batch size 2: one step.
    expect(log.filter((e) => e.type === 'step').map((e) => e.prompts)).toEqual([2]);
  }, 900_000);

  it('stops the run with --strict (data.strict), naming the file', async () => {
    const c = config('strict', root);
    c.data.strict = true;
    const err = await runTraining(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbeddingCacheError);
    expect((err as Error).message).toContain(cut);
  }, 900_000);
});

describe('--out that cannot be a directory', () => {
  it('under a regular file: RunDirectoryError saying so, before any work', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    const c = config('unused', '/nonexistent');
    c.out = join(file, 'run');
    await expect(runTraining(c)).rejects.toThrow(
      `runTraining(config.out): expected a directory that can be created, got '${c.out}' (a parent is a file or not writable: ENOTDIR)`,
    );
    c.out = file;
    await expect(runTraining(c)).rejects.toThrow(`got '${file}' (it is a file: EEXIST)`);
  });
});
