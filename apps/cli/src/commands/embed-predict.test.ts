import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareTensors, readEmbedding, type FloatTensor } from '@samtune/sam-model';
import { decodeNpy, readSafetensors } from '@samtune/tensor-files';
import { readImage } from '@samtune/transforms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../command.js';
import { recordingIO, referencePath } from '../test-utils/io.js';
import { embedCommand } from './embed.js';
import { predictCommand } from './predict.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-cli-'));
let ref: Map<string, FloatTensor>;
beforeAll(() => {
  ref = readSafetensors(referencePath('tinyvit_outputs.safetensors')).tensors as Map<string, FloatTensor>;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('samtune embed', () => {
  it('embeds several images with one model load, skips a bad one and exits 1', async () => {
    const io = recordingIO();
    const code = await embedCommand.run(
      [
        '--checkpoint',
        referencePath('tinyvit.pth'),
        '--image',
        referencePath('dog.jpg'),
        '--image',
        join(dir, 'missing.jpg'),
        '--out',
        join(dir, 'emb'),
      ],
      io,
    );
    expect(code).toBe(1);
    expect(io.stderr.join('\n')).toMatch(/skipped .*missing\.jpg: readImage\(path\)/);
    const emb = readEmbedding(join(dir, 'emb', 'dog.safetensors'));
    expect(emb.originalSize).toEqual([534, 800]);
    expect(compareTensors(emb.embedding, ref.get('dog.image_embeddings')!).ok).toBe(true);
  });

  it('writes .npy for one image and refuses a file --out for several', async () => {
    const io = recordingIO();
    expect(
      await embedCommand.run(
        [
          '--checkpoint',
          referencePath('tinyvit.pth'),
          '--image',
          referencePath('truck.jpg'),
          '--out',
          join(dir, 't.npy'),
        ],
        io,
      ),
    ).toBe(0);
    const t = decodeNpy(readFileSync(join(dir, 't.npy')));
    expect(t.shape).toEqual([1, 256, 64, 64]);
    expect(compareTensors(t, ref.get('truck.image_embeddings')!).ok).toBe(true);
    await expect(
      embedCommand.run(['--checkpoint', 'x', '--image', 'a.jpg', '--image', 'b.jpg', '--out', join(dir, 'x.npy')], io),
    ).rejects.toThrow(UsageError);
  });
});

describe('samtune predict', () => {
  it('reproduces the fixture box case (dog case 1) and writes a PNG mask of the original size', async () => {
    const io = recordingIO();
    const out = join(dir, 'case1.safetensors');
    const args = [
      '--checkpoint',
      referencePath('tinyvit.pth'),
      '--image',
      referencePath('dog.jpg'),
      '--box',
      '160,133.5,560,480.6000061035156',
    ];
    expect(await predictCommand.run([...args, '--out', out], io)).toBe(0);
    const got = readSafetensors(out).tensors as Map<string, FloatTensor>;
    for (const name of ['low_res_masks', 'iou_predictions', 'masks']) {
      const a = compareTensors(got.get(name)!, ref.get(`dog.case1.${name}`)!);
      expect(a.ok, `${name} ratio ${a.ratio}`).toBe(true);
    }
    // Random fixture weights: every logit is negative, so the mask at threshold 0 is empty: said on stderr.
    expect(JSON.parse(io.stdout[0]!)).toMatchObject({ best: 0, pixels: 0 });
    expect(
      io.stderr.filter((l) => l.startsWith('warning: the predicted mask is empty (0 px at threshold 0;')),
    ).toHaveLength(1);
    expect(io.stderr.join('\n')).toMatch(/tfjs backend: (wasm|cpu|tensorflow)/);

    // The fixture weights are random and every reference logit is negative: threshold at the median
    // reference logit so about half the pixels are inside and the comparison means something.
    const logits = ref.get('dog.case1.masks')!.data;
    const threshold = Float32Array.from(logits).sort()[logits.length >> 1]!;
    expect(
      await predictCommand.run(
        [...args, `--mask-threshold=${threshold}`, '--out', join(dir, 'mask.png')],
        recordingIO(),
      ),
    ).toBe(0);
    const png = await readImage(join(dir, 'mask.png'));
    expect([png.width, png.height]).toEqual([800, 534]);
    let inside = 0;
    for (let i = 0; i < logits.length; i++) if ((logits[i] as number) > threshold) inside++;
    expect(inside).toBeGreaterThan(logits.length * 0.4);
    let white = 0;
    for (let i = 0; i < png.width * png.height; i++) if (png.data[i * 3] === 255) white++;
    expect(Math.abs(white - inside)).toBeLessThanOrEqual(logits.length * 0.001); // float noise at the threshold
  });

  it('feeds --mask-input from a previous low_res_masks (dog case 4)', async () => {
    const io = recordingIO();
    const out = join(dir, 'case4.safetensors');
    const args = [
      '--checkpoint',
      referencePath('tinyvit.pth'),
      '--embedding',
      join(dir, 'emb', 'dog.safetensors'),
      '--box',
      '160,133.5,560,480.6000061035156',
    ];
    expect(await predictCommand.run([...args, '--mask-input', join(dir, 'case1.safetensors'), '--out', out], io)).toBe(
      0,
    );
    const got = readSafetensors(out).tensors as Map<string, FloatTensor>;
    const a = compareTensors(got.get('low_res_masks')!, ref.get('dog.case4.low_res_masks')!);
    expect(a.ok, `ratio ${a.ratio}`).toBe(true);
    await expect(
      predictCommand.run(['--checkpoint', 'x', '--image', 'a.jpg', '--out', join(dir, 'o.png')], io),
    ).rejects.toThrow(/no prompt/);
  });
});
