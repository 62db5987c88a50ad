/**
 * A subset left empty because its only image was skipped says why (issue 22): by the loader (a
 * missing image) in `pickSubset`'s message, and by the embedding pass (an unreadable image) in
 * `evaluateCheckpoint` / `runTraining` (`usableItems`), instead of "no non-empty subset" or an
 * evaluation of zero images.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset } from '@samtune/datasets';
import { evaluateCheckpoint } from './evaluate-checkpoint.js';
import { pickSubset, SubsetError } from './setup.js';
import { referencePath } from './test-utils/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-empty-subset-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** train: dog.jpg; valid: one image `valid` (written when `bytes` is given). */
function dataset(name: string, valid: string, bytes?: Buffer): string {
  const root = join(tmp, name);
  const dog = readFileSync(referencePath('dog.jpg'));
  const files: Record<string, [string, Buffer | undefined]> = { train: ['dog.jpg', dog], valid: [valid, bytes] };
  for (const [subset, [file, content]] of Object.entries(files)) {
    mkdirSync(join(root, subset), { recursive: true });
    if (content) writeFileSync(join(root, subset, file), content);
    writeFileSync(
      join(root, subset, '_annotations.coco.json'),
      JSON.stringify({
        categories: [{ id: 1, name: 'thing' }],
        images: [{ id: 1, file_name: file, width: 800, height: 534 }],
        annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [160, 133, 400, 347] }],
      }),
    );
  }
  return root;
}

describe('a subset whose only image was skipped', () => {
  it('by the loader: pickSubset names the problem', async () => {
    const root = dataset('missing', 'gone.jpg');
    const ds = await loadDataset(root);
    const err = (() => {
      try {
        pickSubset(ds, 'auto');
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SubsetError);
    expect(err?.message).toBe(
      `pickSubset(${root}, 'auto'): no non-empty subset among val, valid, validation, test; the dataset has train (1); left out while loading (1 problem(s)): ${ds.skipped[0]?.message}`,
    );
    expect(err?.message).toContain(`image file '${join(root, 'valid', 'gone.jpg')}' does not exist`);
  });

  it('by the embedding pass: evaluateCheckpoint says which image and why, instead of scoring 0 images', async () => {
    const dog = readFileSync(referencePath('dog.jpg'));
    const root = dataset('unreadable', 'cut.jpg', dog.subarray(0, dog.length >> 1));
    const err = await evaluateCheckpoint({
      checkpoint: referencePath('tinyvit.pth'),
      dataRoot: root,
      cacheDir: join(tmp, 'cache'),
    }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(SubsetError);
    expect((err as Error).message).toMatch(
      /^evaluateCheckpoint: subset 'valid' has no image left: its 1 image\(s\) could not be read and were skipped: .*cut\.jpg/,
    );
  }, 300_000);
});
