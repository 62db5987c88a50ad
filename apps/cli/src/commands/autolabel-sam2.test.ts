/**
 * `samtune autolabel` on a SAM 2.1 checkpoint (the seeded reduced-Hiera fixture, `Sam2Model`):
 * 2 of plant-mini's valid photos (9 boxes; autolabel spends ~10 s a photo on this machine) labelled
 * from their boxes; every annotation is accounted for (written or
 * an empty mask), and the first written mask equals what `samtune predict` gives for the same box.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { recordingIO } from '../test-utils/io.js';
import { writeSam2MiniCheckpoint } from '../test-utils/sam2-mini.js';
import { autolabelCommand } from './autolabel.js';
import { predictCommand } from './predict.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-cli-sam2-autolabel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const plantValid = join(resolve(fileURLToPath(import.meta.url), '../../../../../examples/plant-mini'), 'valid');

interface Coco {
  images: { id: number; file_name: string }[];
  annotations: { image_id: number; bbox: number[]; area: number; prompt?: string }[];
}

/** The first 2 photos of plant-mini valid and their annotations, as a COCO folder at `to`. */
function twoPhotos(to: string): string {
  const source = JSON.parse(readFileSync(join(plantValid, '_annotations.coco.json'), 'utf8')) as Coco;
  const images = source.images.slice(0, 2);
  const ids = new Set(images.map((i) => i.id));
  mkdirSync(to);
  for (const i of images) copyFileSync(join(plantValid, i.file_name), join(to, i.file_name));
  const annotations = source.annotations.filter((a) => ids.has(a.image_id));
  writeFileSync(join(to, '_annotations.coco.json'), JSON.stringify({ ...source, images, annotations }));
  return to;
}

describe('samtune autolabel (SAM 2.1)', () => {
  it('labels every box of 2 plant-mini valid photos; a mask equals samtune predict’s for the same box', async () => {
    const ckpt = await writeSam2MiniCheckpoint(dir);
    const valid = twoPhotos(join(dir, 'valid'));
    const out = join(dir, 'labels.json');
    const io = recordingIO();
    const args = ['--checkpoint', ckpt, '--data-root', valid, '--out', out, '--prompt', 'box'];
    expect(await autolabelCommand.run(args, io), io.stderr.join('\n')).toBe(0);
    const coco = JSON.parse(readFileSync(out, 'utf8')) as Coco;
    const source = JSON.parse(readFileSync(join(valid, '_annotations.coco.json'), 'utf8')) as Coco;
    expect(coco.images).toHaveLength(2);
    const empty = Number(/(\d+) prompts gave an empty mask/.exec(io.stderr.join('\n'))?.[1] ?? 0);
    expect(coco.annotations.length + empty).toBe(source.annotations.length);
    expect(coco.annotations.length).toBeGreaterThan(0);

    // the first image's first source box, through predict: the same mask area
    const img = source.images.find((i) => i.id === source.annotations[0]?.image_id);
    const [x, y, w, h] = source.annotations[0]?.bbox as [number, number, number, number];
    const labelled = coco.annotations.filter(
      (a) => coco.images.find((i) => i.id === a.image_id)?.file_name === img?.file_name,
    );
    const pr = recordingIO();
    const png = join(dir, 'mask.png');
    const box = [x, y, x + w, y + h].join(',');
    expect(
      await predictCommand.run(
        ['--checkpoint', ckpt, '--image', join(valid, img?.file_name as string), '--box', box, '--out', png],
        pr,
      ),
    ).toBe(0);
    const pixels = (JSON.parse(pr.stdout[0] as string) as { pixels: number }).pixels;
    expect(labelled.map((a) => a.area)).toContain(pixels);
  }, 600_000);
});
