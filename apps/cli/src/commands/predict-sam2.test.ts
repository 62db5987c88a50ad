/**
 * `samtune predict` on a SAM 2.1 checkpoint (the seeded reduced-Hiera fixture): dog.jpg with case 1's
 * box (a single-mask call: token 0 or the stability fallback), against the official
 * `SAM2ImagePredictor` outputs of `../shared/fixtures/sam2-reference/`: low-res logits, IoU and the
 * original-size logits; and from an embedding file of `samtune embed` (it carries high_res_feats).
 */
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareTensors, type FloatTensor } from '@samtune/sam-model';
import { readSafetensors } from '@samtune/tensor-files';
import { afterAll, describe, expect, it } from 'vitest';
import { recordingIO, referencePath } from '../test-utils/io.js';
import { sam2Fixture, writeSam2MiniCheckpoint } from '../test-utils/sam2-mini.js';
import { embedCommand } from './embed.js';
import { predictCommand } from './predict.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-cli-sam2-predict-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function within(ours: FloatTensor | undefined, want: FloatTensor | undefined, what: string): void {
  if (!ours || !want) throw new Error(`${what}: missing`);
  expect(ours.data.length, what).toBe(want.data.length);
  const a = compareTensors({ shape: want.shape, data: ours.data }, want);
  expect(a.ok, `${what} ${JSON.stringify(a)}`).toBe(true);
}

describe('samtune predict (SAM 2.1)', () => {
  it('dog case 1 (box): low-res logits, IoU and original-size logits of SAM2ImagePredictor', async () => {
    const ckpt = await writeSam2MiniCheckpoint(dir);
    const manifest = JSON.parse(readFileSync(sam2Fixture('manifest.json'), 'utf8'));
    const box = (manifest.cases.dog[1] as { box: number[] }).box.join(',');
    const ref = readSafetensors(sam2Fixture('hiera_mini_outputs.safetensors')).tensors as Map<string, FloatTensor>;
    const check = (file: string): void => {
      const t = readSafetensors(file).tensors as Map<string, FloatTensor>;
      within(t.get('low_res_masks'), ref.get('dog.case1.low_res_masks'), 'low_res_masks');
      within(t.get('iou_predictions'), ref.get('dog.case1.iou_predictions'), 'iou_predictions');
      within(t.get('masks'), ref.get('dog.case1.masks'), 'masks');
    };
    const out = join(dir, 'case1.safetensors');
    const io = recordingIO();
    const args = ['--checkpoint', ckpt, '--box', box];
    expect(await predictCommand.run([...args, '--image', referencePath('dog.jpg'), '--out', out], io)).toBe(0);
    check(out);
    // from an embedding file (image_embeddings + high_res_feats.0/.1), no encoder run
    const emb = join(dir, 'dog.safetensors');
    expect(
      await embedCommand.run(['--checkpoint', ckpt, '--image', referencePath('dog.jpg'), '--out', emb], recordingIO()),
    ).toBe(0);
    const out2 = join(dir, 'case1-emb.safetensors');
    expect(await predictCommand.run([...args, '--embedding', emb, '--out', out2], recordingIO())).toBe(0);
    check(out2);
  }, 600_000);
});
