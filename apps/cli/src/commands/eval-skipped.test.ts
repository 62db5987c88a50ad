/**
 * `samtune eval` on bad input (issue 11): a truncated JPEG and an invalid annotation are reported on
 * stderr and counted in the output (`skipped`), the rest is scored, and without --out nothing is
 * written (it used to write its metrics next to the checkpoint, e.g. into the shared fixtures).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordingIO, referencePath } from '../test-utils/io.js';
import { evalCommand } from './eval.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-eval-skipped-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function dataset(): string {
  const root = join(dir, 'data');
  mkdirSync(join(root, 'valid'), { recursive: true });
  const dog = readFileSync(referencePath('dog.jpg'));
  writeFileSync(join(root, 'valid', 'dog.jpg'), dog);
  writeFileSync(join(root, 'valid', 'cut.jpg'), dog.subarray(0, dog.length >> 1));
  const images = [
    { id: 1, file_name: 'dog.jpg', width: 800, height: 534 },
    { id: 2, file_name: 'cut.jpg', width: 800, height: 534 },
  ];
  const annotations = [
    { id: 10, image_id: 1, category_id: 1, bbox: [160, 133, 400, 347] },
    { id: 11, image_id: 1, category_id: 1, bbox: [100, 100, 100, 100] },
    { id: 12, image_id: 1, category_id: 1, bbox: [700, 400, 300, 300] },
    { id: 20, image_id: 2, category_id: 1, bbox: [160, 133, 400, 347] },
  ];
  writeFileSync(
    join(root, 'valid', '_annotations.coco.json'),
    JSON.stringify({ categories: [{ id: 1, name: 'thing' }], images, annotations }),
  );
  // A train subset too, so the dataset is not split into train/val (one-subset datasets are).
  mkdirSync(join(root, 'train'), { recursive: true });
  writeFileSync(join(root, 'train', 'dog.jpg'), dog);
  writeFileSync(
    join(root, 'train', '_annotations.coco.json'),
    JSON.stringify({
      categories: [{ id: 1, name: 'thing' }],
      images: images.slice(0, 1),
      annotations: annotations.slice(0, 1),
    }),
  );
  return root;
}

describe('samtune eval: skipped inputs are reported and counted; no --out, no file', () => {
  it('counts 2 skipped (annotation 12, cut.jpg), scores the 2 good instances, writes nothing', async () => {
    const root = dataset();
    const ckptDir = join(dir, 'ckpt');
    mkdirSync(ckptDir);
    const checkpoint = join(ckptDir, 'tinyvit.pth');
    copyFileSync(referencePath('tinyvit.pth'), checkpoint);
    const io = recordingIO();
    const code = await evalCommand.run(
      ['--checkpoint', checkpoint, '--data-root', root, '--json', '--cache-dir', join(dir, 'cache')],
      io,
    );
    expect(code).toBe(0);
    const printed = JSON.parse(io.stdout[0] as string) as Record<string, number>;
    expect(printed).toMatchObject({ images: 1, instances: 2, skipped: 2 });
    const skipped = io.stderr.filter((l) => l.startsWith('skipped: '));
    expect(skipped).toHaveLength(2);
    expect(skipped[0]).toContain("annotation '12'");
    expect(skipped[1]).toContain(join(root, 'valid', 'cut.jpg'));
    expect(readdirSync(ckptDir)).toEqual(['tinyvit.pth']);
    expect(readdirSync(join(root, 'valid')).sort()).toEqual(['_annotations.coco.json', 'cut.jpg', 'dog.jpg']);
    expect(io.stderr.join('\n')).not.toContain('metrics written');
  }, 600_000);
});
