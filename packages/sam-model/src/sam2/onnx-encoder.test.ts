/**
 * SAM 2.1 image features on onnxruntime-node against the official code (`SAM2ImagePredictor.set_image`)
 * on the seeded reduced-Hiera checkpoint: the pre-processed input (every 8th row/column), the 64x64
 * embedding (+ no_mem_embed) and both high-resolution levels, each within `1e-4 + 1e-3*max|ref|`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preprocessImageSam2, readImage } from '@samtune/transforms';
import { decodeModel } from '@samtune/onnx';
import { floatTensor } from '@samtune/tensor';
import { compareTensors } from '../compare.js';
import { EmbedInputError } from '../image-encoder/onnx-encoder.js';
import { referencePath } from '../test-utils/fixtures.js';
import { loadSam2Checkpoint, type LoadedSam2Checkpoint } from './checkpoint.js';
import { buildSam2EncoderOnnx, Sam2EncoderSession, type Sam2Embedding } from './onnx-encoder.js';
import { SAM2_MINI_CHECKPOINT, miniHieraFacts, readSam2Tensor, sam2ReferencePath } from './test-utils/sam2-fixtures.js';

const OUTPUTS = 'hiera_mini_outputs.safetensors';

function strided8(t: Float32Array, size: number): Float32Array {
  const s = size / 8;
  const out = new Float32Array(3 * s * s);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++) out[(c * s + y) * s + x] = t[(c * size + y * 8) * size + x * 8]!;
  return out;
}

describe('SAM 2.1 image encoder on onnxruntime (hiera_mini, dog)', () => {
  let ckpt: LoadedSam2Checkpoint;
  let session: Sam2EncoderSession | undefined;
  let image: Float32Array;
  let features: Sam2Embedding;
  beforeAll(async () => {
    ckpt = await loadSam2Checkpoint(sam2ReferencePath(SAM2_MINI_CHECKPOINT), { facts: miniHieraFacts() });
    session = await Sam2EncoderSession.create(ckpt.config.imageEncoder, ckpt.weights);
    image = preprocessImageSam2(await readImage(referencePath('dog.jpg'))).tensor;
    const t0 = performance.now();
    features = await session.embed(image);
    console.log(`hiera_mini embed ${(performance.now() - t0).toFixed(0)} ms`);
  });
  afterAll(async () => {
    await session?.release();
  });

  it('pre-processing: dog.input_image_s8 (stretch to 1024x1024, antialiased bilinear, ImageNet mean/std)', () => {
    const ref = readSam2Tensor(OUTPUTS, 'dog.input_image_s8');
    expect(ref.shape).toEqual([1, 3, 128, 128]);
    const agreement = compareTensors(floatTensor(strided8(image, 1024), [1, 3, 128, 128]), ref);
    expect(agreement.ok, JSON.stringify(agreement)).toBe(true);
  });

  it.each([
    ['dog.image_embeddings', [1, 256, 64, 64], (f: Sam2Embedding) => f.imageEmbed],
    ['dog.high_res_feats.0', [1, 32, 256, 256], (f: Sam2Embedding) => f.highResFeats[0]],
    ['dog.high_res_feats.1', [1, 64, 128, 128], (f: Sam2Embedding) => f.highResFeats[1]],
  ] as const)('%s matches the official encoder', (name, shape, pick) => {
    const ref = readSam2Tensor(OUTPUTS, name);
    expect(ref.shape).toEqual(shape);
    const agreement = compareTensors(pick(features), ref);
    console.log(
      `${name}: ratio ${agreement.ratio.toExponential(3)} maxAbsDiff ${agreement.maxAbsDiff.toExponential(3)}`,
    );
    expect(agreement.ok, JSON.stringify(agreement)).toBe(true);
  });

  it('loads the official checkpoint format: image-mode keys only, the video modules dropped', () => {
    expect(ckpt.config.name).toBe('custom');
    expect(ckpt.droppedKeys).toBeGreaterThan(0);
    const keys = [...ckpt.weights.keys()];
    expect(keys.some((k) => k.startsWith('memory_') || k.startsWith('obj_ptr') || k === 'maskmem_tpos_enc')).toBe(
      false,
    );
    expect(keys).toContain('no_mem_embed');
    expect(keys).toContain('sam_mask_decoder.pred_obj_score_head.layers.2.weight');
    expect(keys.length + ckpt.droppedKeys).toBe(265);
  });

  it('rawHighRes: the neck levels 0/1 before conv_s0/conv_s1, from which conv_s* give the official high_res_feats', async () => {
    const raw = await Sam2EncoderSession.create(ckpt.config.imageEncoder, ckpt.weights, { rawHighRes: true });
    try {
      const f = await raw.embed(image);
      expect(f.backboneFpn?.map((t) => t.shape)).toEqual([
        [1, 256, 256, 256],
        [1, 256, 128, 128],
      ]);
      for (const level of [0, 1] as const) {
        const w = ckpt.weights.get(`sam_mask_decoder.conv_s${level}.weight`)!.data as Float32Array; // [Co,256,1,1]
        const b = ckpt.weights.get(`sam_mask_decoder.conv_s${level}.bias`)!.data as Float32Array;
        const x = f.backboneFpn![level];
        const ref = readSam2Tensor(OUTPUTS, `dog.high_res_feats.${level}`);
        const [, co, h, wd] = ref.shape as [number, number, number, number];
        const plane = h * wd;
        let worst = 0;
        let maxRef = 0;
        for (let p = 0; p < plane; p += 97)
          for (let o = 0; o < co; o++) {
            let s = b[o]!;
            for (let c = 0; c < 256; c++) s += w[o * 256 + c]! * x.data[c * plane + p]!;
            worst = Math.max(worst, Math.abs(s - ref.data[o * plane + p]!));
            maxRef = Math.max(maxRef, Math.abs(ref.data[o * plane + p]!));
          }
        expect(worst).toBeLessThanOrEqual(1e-4 + 1e-3 * maxRef);
      }
    } finally {
      await raw.release();
    }
  });

  it('refuses an input of the wrong size', async () => {
    await expect(session!.embed(new Float32Array(3 * 512 * 512))).rejects.toThrow(EmbedInputError);
  });

  it('declares image [1,3,1024,1024] -> the samexporter SAM 2 encoder outputs', () => {
    const { graph } = decodeModel(buildSam2EncoderOnnx(ckpt.config.imageEncoder, ckpt.weights));
    expect(graph.input.map((v) => [v.name, v.shape])).toEqual([['image', [1, 3, 1024, 1024]]]);
    expect(graph.output.map((v) => [v.name, v.shape])).toEqual([
      ['high_res_feats_0', [1, 32, 256, 256]],
      ['high_res_feats_1', [1, 64, 128, 128]],
      ['image_embed', [1, 256, 64, 64]],
    ]);
  });
});
