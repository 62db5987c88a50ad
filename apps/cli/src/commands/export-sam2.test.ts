/**
 * `samtune export` on a SAM 2.1 checkpoint (the seeded reduced-Hiera fixture as a samtune
 * safetensors): samexporter's encoder + decoder pair, each verified by the command; then the two
 * files run by onnxruntime as a consumer would (feeds by name, prompts scaled by hand), against the
 * official SAM 2.1 outputs of `../shared/fixtures/sam2-reference/` on dog.jpg: the encoder's three
 * features, and case 0's masks and IoU (one positive point, multimask).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSession } from '@samtune/onnx';
import { floatTensor } from '@samtune/tensor';
import { compareTensors, type FloatTensor } from '@samtune/sam-model';
import { readSafetensors } from '@samtune/tensor-files';
import { readImage, preprocessImageSam2 } from '@samtune/transforms';
import { afterAll, describe, expect, it } from 'vitest';
import { recordingIO, referencePath } from '../test-utils/io.js';
import { sam2Fixture as fixture, writeSam2MiniCheckpoint } from '../test-utils/sam2-mini.js';
import { exportCommand } from './export.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-cli-sam2-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let checkpoint: Promise<string> | undefined;
/** The mini checkpoint as a samtune safetensors, written once. */
const miniCheckpoint = (): Promise<string> => (checkpoint ??= writeSam2MiniCheckpoint(dir));

function within(ours: FloatTensor | undefined, want: FloatTensor | undefined, what: string): void {
  if (!ours || !want) throw new Error(`${what}: missing`);
  const a = compareTensors({ shape: want.shape, data: ours.data }, want);
  expect(a.ok, `${what} ${JSON.stringify(a)}`).toBe(true);
}

describe('samtune export (SAM 2.1)', () => {
  it('writes the samexporter pair; onnxruntime reproduces the official features and case 0', async () => {
    const weights = await miniCheckpoint();
    const out = join(dir, 'onnx');
    const io = recordingIO();
    expect(await exportCommand.run(['--checkpoint', weights, '--out', out], io)).toBe(0);
    const summary = JSON.parse(io.stdout.join('\n')) as { files: string[]; worst_ratio: Record<string, object> };
    expect(summary.files.map((p) => p.slice(out.length + 1))).toEqual(['encoder.onnx', 'decoder.onnx']);
    expect(Object.keys(summary.worst_ratio.decoder ?? {})).toEqual(['masks', 'iou_predictions']);

    const ref = readSafetensors(fixture('hiera_mini_outputs.safetensors')).tensors as Map<string, FloatTensor>;
    const manifest = JSON.parse(readFileSync(fixture('manifest.json'), 'utf8'));
    const c0 = manifest.cases.dog[0] as { point_coords: [number, number][]; point_labels: number[] };
    const img = await readImage(referencePath('dog.jpg'));
    const pre = preprocessImageSam2(img);
    const enc = await createSession(join(out, 'encoder.onnx'), { intraOpNumThreads: 2 });
    const f = await enc.run({ image: floatTensor(pre.tensor, [1, 3, 1024, 1024]) });
    await enc.release();
    within(f.image_embed as FloatTensor, ref.get('dog.image_embeddings'), 'image_embed');
    within(f.high_res_feats_0 as FloatTensor, ref.get('dog.high_res_feats.0'), 'high_res_feats_0');
    within(f.high_res_feats_1 as FloatTensor, ref.get('dog.high_res_feats.1'), 'high_res_feats_1');

    const [h, w] = pre.originalSize;
    const [[x, y]] = c0.point_coords as [[number, number]];
    const dec = await createSession(join(out, 'decoder.onnx'), { intraOpNumThreads: 2 });
    const r = await dec.run({
      image_embed: ref.get('dog.image_embeddings') as FloatTensor,
      high_res_feats_0: ref.get('dog.high_res_feats.0') as FloatTensor,
      high_res_feats_1: ref.get('dog.high_res_feats.1') as FloatTensor,
      point_coords: floatTensor(Float32Array.of((x / w) * 1024, (y / h) * 1024), [1, 1, 2]),
      point_labels: floatTensor(Float32Array.from(c0.point_labels), [1, 1]),
      mask_input: floatTensor(new Float32Array(256 * 256), [1, 1, 256, 256]),
      has_mask_input: floatTensor(Float32Array.of(0), [1]),
    });
    await dec.release();
    within(r.masks as FloatTensor, ref.get('dog.case0.low_res_masks'), 'case 0 masks');
    within(r.iou_predictions as FloatTensor, ref.get('dog.case0.iou_predictions'), 'case 0 iou_predictions');
  }, 600_000);

  it('--format transformers.js writes the transformers.js sam2 folder, verified; --single-mask is refused', async () => {
    const weights = await miniCheckpoint();
    await expect(
      exportCommand.run(['--checkpoint', weights, '--out', join(dir, 'x'), '--single-mask'], recordingIO()),
    ).rejects.toThrow(/a SAM 2.1 checkpoint exports as --format onnx .* got --single-mask/);
    const out = join(dir, 'tjs');
    const io = recordingIO();
    expect(await exportCommand.run(['--checkpoint', weights, '--out', out, '--format', 'transformers.js'], io)).toBe(0);
    const summary = JSON.parse(io.stdout.join('\n')) as {
      format: string;
      decoder: string;
      files: string[];
      worst_ratio: Record<string, Record<string, number>>;
    };
    expect(summary.format).toBe('transformers.js');
    expect(summary.decoder).toBe('single_mask');
    expect(summary.files.map((p) => p.slice(out.length + 1))).toEqual([
      'config.json',
      'preprocessor_config.json',
      'onnx/vision_encoder.onnx',
      'onnx/prompt_encoder_mask_decoder.onnx',
      'samtune.json',
    ]);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).model_type).toBe('sam2');
    expect(Object.keys(summary.worst_ratio.decoder ?? {}).sort()).toEqual([
      'iou_scores',
      'object_score_logits',
      'pred_masks',
    ]);
    for (const part of Object.values(summary.worst_ratio))
      for (const r of Object.values(part)) expect(r).toBeLessThanOrEqual(1);
  }, 600_000);
});
