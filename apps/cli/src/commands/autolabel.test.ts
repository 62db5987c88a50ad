import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordingIO, referencePath } from '../test-utils/io.js';
import { autolabelCommand } from './autolabel.js';

const root = mkdtempSync(join(tmpdir(), 'samtune-cli-autolabel-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('samtune autolabel', () => {
  it('writes a COCO file with one RLE mask per box prompt', async () => {
    mkdirSync(join(root, 'train'));
    copyFileSync(referencePath('truck.jpg'), join(root, 'train', 'truck.jpg'));
    writeFileSync(
      join(root, 'train', '_annotations.coco.json'),
      JSON.stringify({
        images: [{ id: 1, file_name: 'truck.jpg', width: 1800, height: 1200 }],
        categories: [{ id: 1, name: 'truck' }],
        annotations: [
          { id: 1, image_id: 1, category_id: 1, bbox: [360, 300, 900, 780], iscrowd: 0 },
          { id: 2, image_id: 1, category_id: 1, bbox: [90, 60, 720, 540], iscrowd: 0 },
        ],
      }),
    );
    const io = recordingIO();
    const out = join(root, 'labels.json');
    const code = await autolabelCommand.run(
      ['--checkpoint', referencePath('tinyvit.pth'), '--data-root', root, '--out', out],
      io,
    );
    const coco = JSON.parse(readFileSync(out, 'utf8'));
    // Random fixture weights give all-negative logits, so both masks are empty: counted, reported, exit 0.
    expect(coco.images).toEqual([{ id: 1, file_name: 'truck.jpg', width: 1800, height: 1200 }]);
    expect(coco.categories).toEqual([{ id: 1, name: 'truck', supercategory: 'none' }]);
    expect(coco.annotations).toEqual([]);
    expect(code).toBe(0);
    expect(JSON.parse(io.stdout[0]!)).toMatchObject({ images: 1, instances: 0, empty: 2, out });
    // Said once, with the count (not one line per prompt).
    const empty = io.stderr.filter((l) => l.startsWith('empty mask'));
    expect(empty).toHaveLength(1);
    expect(empty[0]).toMatch(
      /^empty masks: 2 prompt\(s\) gave an empty mask, e\.g\. .*truck\.jpg \(item truck, instance 1\): the predicted mask is empty \(--verbose lists them all\)$/,
    );
    expect(io.stderr.join('\n')).toMatch(/tfjs backend: /);
    await expect(
      autolabelCommand.run(['--checkpoint', 'x', '--data-root', root, '--out', out, '--prompt', 'lasso'], io),
    ).rejects.toThrow(/--prompt 'lasso'/);
  });
});
