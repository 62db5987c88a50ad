import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../command.js';
import { recordingIO } from '../test-utils/io.js';
import { dataInspectCommand } from './data-inspect.js';

function sharedPath(rel: string): string {
  const p = resolve(fileURLToPath(import.meta.url), '../../../../../../shared', rel);
  if (!existsSync(p)) throw new Error(`sharedPath(rel): fixture ${p} not found (../shared must sit beside the repo)`);
  return p;
}

const dir = mkdtempSync(join(tmpdir(), 'samtune-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('samtune data inspect', () => {
  it('--json prints exactly format, subsets and labels for plant-seg-coco', async () => {
    const io = recordingIO();
    const code = await dataInspectCommand.run(['--data-root', sharedPath('datasets/plant-seg-coco'), '--json'], io);
    expect(code).toBe(0);
    expect(JSON.parse(io.stdout.join('\n'))).toEqual({
      format: 'coco',
      subsets: { train: { images: 59, instances: 479, skipped: 0 }, valid: { images: 17, instances: 104, skipped: 0 } },
      labels: { custom: 0, leaf: 154, root: 323, stem: 106 },
    });
    expect(io.stderr).toEqual([]);
  });

  it('reports every skipped item with its reason, and --strict stops at the first', async () => {
    const root = join(dir, 'broken');
    mkdirSync(join(root, 'annotations'), { recursive: true });
    mkdirSync(join(root, 'images', 'train'), { recursive: true });
    copyFileSync(
      sharedPath('fixtures/datumaro-formats/coco_dataset/coco_instances/images/train/a.jpg'),
      join(root, 'images', 'train', 'a.jpg'),
    );
    writeFileSync(
      join(root, 'annotations', 'instances_train.json'),
      JSON.stringify({
        images: [
          { id: 1, file_name: 'a.jpg', width: 10, height: 5 },
          { id: 2, file_name: 'gone.jpg', width: 10, height: 5 },
        ],
        categories: [{ id: 3, name: 'leaf' }],
        annotations: [
          { id: 1, image_id: 1, category_id: 3, bbox: [1, 1, 2, 2], segmentation: [[1, 1, 3, 1, 3, 3]] },
          { id: 2, image_id: 1, category_id: 3, bbox: [1, 1, 2, 2], segmentation: [[1, 1, 3, 1]] },
        ],
      }),
    );
    writeFileSync(join(root, 'annotations', 'instances_val.json'), '{ not json');

    const io = recordingIO();
    expect(await dataInspectCommand.run(['--data-root', root], io)).toBe(1);
    const text = io.stdout.join('\n');
    expect(text).toMatch(/^format: coco$/m);
    expect(text).toMatch(/^ {2}train\s+1\s+1\s+2$/m);
    expect(text).toMatch(/^ {2}val\s+0\s+0\s+1$/m);
    expect(text).toMatch(/^ {2}leaf\s+1$/m);
    expect(text).toMatch(/^skipped: 3$/m);
    expect(text).toMatch(
      /\[invalid-polygon, annotation\] loadCoco: .*instances_train\.json, subset 'train', item 'a', annotation '2': invalid polygon: expected at least 3 points/,
    );
    expect(text).toMatch(/\[missing-image, item\] .*item 'gone': image file '.*gone\.jpg' does not exist/);
    expect(text).toMatch(
      /\[malformed-annotation, file\] .*instances_val\.json, subset 'val': malformed annotation: cannot parse JSON/,
    );

    const json = recordingIO();
    expect(await dataInspectCommand.run(['--data-root', root, '--json', '--format', 'coco'], json)).toBe(1);
    expect(JSON.parse(json.stdout.join('\n'))).toEqual({
      format: 'coco',
      subsets: { train: { images: 1, instances: 1, skipped: 2 }, val: { images: 0, instances: 0, skipped: 1 } },
      labels: { leaf: 1 },
    });
    expect(json.stderr).toHaveLength(3);

    await expect(dataInspectCommand.run(['--data-root', root, '--strict'], recordingIO())).rejects.toThrow(
      /invalid polygon|does not exist/,
    );
  });

  it('turns bad flags and unrecognised folders into usage errors', async () => {
    const io = recordingIO();
    await expect(dataInspectCommand.run([], io)).rejects.toThrow(UsageError);
    await expect(dataInspectCommand.run(['--data-root', dir, '--format', 'kitti'], io)).rejects.toThrow(
      /--format 'kitti': expected one of auto, .*coco/,
    );
    await expect(dataInspectCommand.run(['--data-root', dir, '--check-images', 'all'], io)).rejects.toThrow(UsageError);
    await expect(dataInspectCommand.run(['--data-root', dir], io)).rejects.toThrow(/no adapter recognises/);
  });
});
