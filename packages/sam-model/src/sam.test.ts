import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImage } from '@samtune/transforms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '@samtune/tensor-files';
import { compareTensors } from './compare.js';
import { initBackend } from './ops/backend.js';
import { EmbeddingFileError, readEmbedding, SamModel, writeEmbedding } from './sam.js';
import type { FloatTensor } from '@samtune/tensor';
import { referencePath } from './test-utils/fixtures.js';

describe('SamModel end to end from the raw JPEG (tinyvit.pth)', () => {
  let model: SamModel;
  let ref: Map<string, FloatTensor>;
  const dir = mkdtempSync(join(tmpdir(), 'samtune-sam-'));

  beforeAll(async () => {
    await initBackend('wasm');
    model = await SamModel.load(referencePath('tinyvit.pth'));
    ref = readSafetensors(referencePath('tinyvit_outputs.safetensors')).tensors as Map<string, FloatTensor>;
  });
  afterAll(async () => {
    await model.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the config from the checkpoint and reproduces the embedding and the box mask of dog.jpg', async () => {
    expect(model.config.name).toBe('tiny_vit');
    expect(model.source.sha256).toMatch(/^[0-9a-f]{64}$/);
    const emb = await model.embedImage(await readImage(referencePath('dog.jpg')));
    expect(emb.originalSize).toEqual([534, 800]);
    expect(emb.inputSize).toEqual([684, 1024]);
    const e = compareTensors(emb.embedding, ref.get('dog.image_embeddings')!);
    expect(e.ok, `embedding ratio ${e.ratio}`).toBe(true);

    for (const engine of ['ort', 'tfjs'] as const) {
      model.engine = engine;
      const out = await model.predict(
        emb,
        { box: [160.0, 133.5, 560.0, 480.6000061035156] },
        { multimask: false, returnMasks: true },
      );
      for (const [name, ours] of [
        ['low_res_masks', out.lowResMasks],
        ['iou_predictions', out.iouPredictions],
        ['masks', out.masks!],
      ] as const) {
        const a = compareTensors(ours, ref.get(`dog.case1.${name}`)!);
        expect(a.ok, `${engine} ${name} ratio ${a.ratio}`).toBe(true);
      }
    }
    model.engine = 'ort';

    const file = join(dir, 'dog.safetensors');
    writeEmbedding(file, emb, { image: 'dog.jpg' });
    const back = readEmbedding(file);
    expect(back.originalSize).toEqual([534, 800]);
    expect(back.inputSize).toEqual([684, 1024]);
    expect(back.metadata.image).toBe('dog.jpg');
    expect(back.embedding.data).toEqual(emb.embedding.data);
  });

  it('names an embedding file without sizes', () => {
    const file = join(dir, 'bad.safetensors');
    writeEmbedding(file, { embedding: ref.get('dog.image_embeddings')!, originalSize: [1, 1], inputSize: [1, 1] });
    writeSafetensors(file, readSafetensors(file).tensors, {});
    expect(() => readEmbedding(file)).toThrow(EmbeddingFileError);
    expect(() => readEmbedding(file)).toThrow(/original_size='', expected "H,W"/);
  });
});

describe('SamModel engines', () => {
  it('gives the same binary masks and RLE on ort and tfjs, and swaps decoder weights', async () => {
    await initBackend('wasm');
    const model = await SamModel.load(referencePath('tinyvit.pth'));
    const ref = readSafetensors(referencePath('tinyvit_outputs.safetensors')).tensors as Map<string, FloatTensor>;
    const emb = {
      embedding: ref.get('dog.image_embeddings')!,
      originalSize: [534, 800] as const,
      inputSize: [684, 1024] as const,
    };
    const prompt = { points: [[400, 293.7] as const], labels: [1] };
    try {
      const ort = await model.predict(emb, prompt, { multimask: 'auto', maskOutput: 'rle' });
      model.engine = 'tfjs';
      const tfjs = await model.predict(emb, prompt, { multimask: 'auto', maskOutput: 'rle' });
      expect(ort.iouPredictions.shape).toEqual([1]);
      expect(ort.rle).toHaveLength(1);
      const [a, b] = [ort.rle![0]!, tfjs.rle![0]!];
      // logits agree within the parity tolerance, so only pixels on the 0 boundary may flip
      expect(Math.abs(a.area - b.area)).toBeLessThanOrEqual(Math.max(10, 0.002 * b.area));
      expect(b.area).toBeGreaterThan(0);

      model.engine = 'ort';
      const box = { box: [160, 133.5, 560, 480.6] as const };
      const before = await model.predict(emb, box, { multimask: false, maskOutput: 'none' });
      const key = 'mask_decoder.iou_prediction_head.layers.2.bias';
      const bias = model.weights.get(key) as FloatTensor;
      await model.updateDecoderWeights(new Map([[key, { ...bias, data: bias.data.map((v) => v + 1) }]]));
      for (const engine of ['ort', 'tfjs'] as const) {
        model.engine = engine;
        const after = await model.predict(emb, box, { multimask: false, maskOutput: 'none' });
        expect(after.iouPredictions.data[0]).toBeCloseTo((before.iouPredictions.data[0] as number) + 1, 3);
      }
      await expect(model.updateDecoderWeights(new Map([[key, { ...bias, shape: [1, 4] }]]))).rejects.toThrow(
        /has shape \[1,4\], expected \[4\]/,
      );
    } finally {
      await model.release();
    }
  });
});

describe('SamModel.seeded', () => {
  it('builds a deterministic full model from a preset', () => {
    const a = SamModel.seeded('tiny_vit', 3);
    const b = SamModel.seeded('tiny_vit', 3);
    expect(a.source.path).toBe('seeded:tiny_vit:3');
    expect(a.weights.size).toBe(b.weights.size);
    const key = 'mask_decoder.iou_token.weight';
    expect(a.weights.get(key)!.data).toEqual(b.weights.get(key)!.data);
    expect(SamModel.seeded('tiny_vit', 4).weights.get(key)!.data).not.toEqual(a.weights.get(key)!.data);
  });
});
