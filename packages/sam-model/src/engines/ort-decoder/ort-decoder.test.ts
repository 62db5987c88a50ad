/**
 * The ORT decoder engine's parity with the official predictor, on both reference checkpoints: every
 * manifest case of both images (low_res_masks, iou_predictions, masks at the original size) and the
 * batch of three boxes, fed the fixture's image embeddings. Tolerance `1e-4 + 1e-3*max|ref|`.
 * Also: binary masks and RLE are exactly the thresholded logits, and updateWeights rebuilds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSamCheckpoint } from '../../checkpoint/load.js';
import type { SamConfig } from '../../config.js';
import type { FloatTensor, WeightMap } from '@samtune/tensor';
import { floatTensor } from '@samtune/tensor';
import {
  RatioTally,
  batchCase,
  promptCases,
  readManifest,
  readOutputs,
  refTensor,
  type Manifest,
} from '../../test-utils/decoder-cases.js';
import { referencePath } from '../../test-utils/fixtures.js';
import { PredictorInputError } from '../../predictor.js';
import { OrtDecoder } from './ort-decoder.js';

const tally = new RatioTally();
let manifest: Manifest;
beforeAll(() => {
  manifest = readManifest();
});
afterAll(() => console.log(tally.summary('ort-decoder')));

/** Row `i` of `[M,256,256]` as `[1,256,256]`. */
function row(t: FloatTensor, i: number): FloatTensor {
  const n = t.data.length / (t.shape[0] as number);
  return floatTensor(t.data.slice(i * n, (i + 1) * n), [1, ...t.shape.slice(1)]);
}

describe.each(['tinyvit', 'vit_mini'])('OrtDecoder parity (%s)', (model) => {
  let decoder: OrtDecoder;
  let outputs: WeightMap;
  let config: SamConfig;
  let weights: WeightMap;
  beforeAll(async () => {
    const ckpt = await loadSamCheckpoint(referencePath(`${model}.pth`));
    config = ckpt.config;
    weights = ckpt.weights;
    outputs = readOutputs(model);
    decoder = new OrtDecoder(config, weights);
  });
  afterAll(async () => decoder?.release());

  it.each(['dog', 'truck'])('matches every prompt case of %s', async (stem) => {
    const image = manifest.images[stem];
    if (!image) throw new Error(`manifest.json: no image '${stem}'`);
    const embedding = refTensor(outputs, model, `${stem}.image_embeddings`);
    let withMasks = 0;
    for (const c of promptCases(manifest, stem)) {
      const key = `${stem}.case${c.case}`;
      const maskInput =
        c.mask_input_from_case !== null ? row(refTensor(outputs, model, `${key}.mask_input`), 0) : undefined;
      const refMasks = outputs.get(`${key}.masks`);
      const r = await decoder.predict(
        embedding,
        {
          ...(c.point_coords ? { points: c.point_coords, labels: c.point_labels ?? [] } : {}),
          ...(c.box ? { box: c.box } : {}),
          ...(maskInput ? { maskInput } : {}),
        },
        image.original_size,
        { multimask: c.multimask_output, returnMasks: refMasks !== undefined },
      );
      for (const [name, ours] of [
        ['low_res_masks', r.lowResMasks],
        ['iou_predictions', r.iouPredictions],
        ...(refMasks ? ([['masks', r.masks]] as const) : []),
      ] as const) {
        if (!ours) throw new Error(`${key}: no ${name}`);
        const a = tally.check(name, `${model}.${key}`, ours, refTensor(outputs, model, `${key}.${name}`));
        expect(a.ok, `${model} ${key}.${name} ${JSON.stringify(a)}`).toBe(true);
      }
      if (refMasks) withMasks++;
    }
    if (stem === 'dog') expect(withMasks).toBeGreaterThan(0);
  });

  it.each(['dog', 'truck'])('matches the batch of three boxes on %s', async (stem) => {
    const image = manifest.images[stem];
    if (!image) throw new Error(`manifest.json: no image '${stem}'`);
    const bc = batchCase(manifest, stem);
    const r = await decoder.predictBatchBoxes(
      refTensor(outputs, model, `${stem}.image_embeddings`),
      bc.boxes,
      image.original_size,
      { multimask: bc.multimask_output, returnMasks: false },
    );
    expect(r.masks).toBeUndefined();
    expect(r.lowResMasks.shape).toEqual([3, 1, 256, 256]);
    for (const [name, ours] of [
      ['low_res_masks', r.lowResMasks],
      ['iou_predictions', r.iouPredictions],
    ] as const) {
      const a = tally.check(name, `${model}.${stem}.batch`, ours, refTensor(outputs, model, `${stem}.batch.${name}`));
      expect(a.ok, `${model} ${stem}.batch.${name} ${JSON.stringify(a)}`).toBe(true);
    }
  });
});

describe('OrtDecoder outputs and weights', () => {
  let decoder: OrtDecoder;
  let weights: WeightMap;
  let config: SamConfig;
  let outputs: WeightMap;
  beforeAll(async () => {
    const ckpt = await loadSamCheckpoint(referencePath('tinyvit.pth'));
    config = ckpt.config;
    weights = ckpt.weights;
    outputs = readOutputs('tinyvit');
    decoder = new OrtDecoder(config, weights);
  });
  afterAll(async () => decoder?.release());

  it('gives binary masks and COCO RLE that are exactly the thresholded logits', async () => {
    const emb = refTensor(outputs, 'tinyvit', 'dog.image_embeddings');
    const size: [number, number] = [534, 800];
    const prompt = { points: [[400, 293.7] as const], labels: [1] };
    const logits = await decoder.predict(emb, prompt, size, { multimask: true });
    const binary = await decoder.predict(emb, prompt, size, { multimask: true, maskOutput: 'binary' });
    const rle = await decoder.predict(emb, prompt, size, { multimask: true, maskOutput: 'rle' });
    const [H, W] = size;
    expect(binary.binaryMasks?.shape).toEqual([3, H, W]);
    expect(rle.rle).toHaveLength(3);
    let ones = 0;
    for (let m = 0; m < 3; m++) {
      const l = logits.masks!.data.subarray(m * H * W, (m + 1) * H * W);
      const b = binary.binaryMasks!.data.subarray(m * H * W, (m + 1) * H * W);
      const want = Uint8Array.from(l, (v) => (v > config.maskThreshold ? 1 : 0));
      expect(Buffer.from(b).equals(Buffer.from(want)), `mask ${m}`).toBe(true);
      // decode the RLE (column-major runs starting with 0) and compare
      const r = rle.rle![m]!;
      expect(r.size).toEqual([H, W]);
      expect(r.counts.reduce((a, c) => a + c, 0)).toBe(H * W);
      const decoded = new Uint8Array(H * W);
      let pos = 0;
      for (const [i, c] of r.counts.entries()) {
        for (let j = pos; j < pos + c; j++) decoded[(j % H) * W + Math.floor(j / H)] = i % 2;
        pos += c;
      }
      expect(Buffer.from(decoded).equals(Buffer.from(want)), `rle ${m}`).toBe(true);
      const area = want.reduce((a, v) => a + v, 0);
      expect(r.area).toBe(area);
      ones += area;
    }
    expect(ones).toBeGreaterThan(0);
  });

  it("'auto' keeps the best-IoU mask of one point and token 0 of a box", async () => {
    const emb = refTensor(outputs, 'tinyvit', 'dog.image_embeddings');
    const size: [number, number] = [534, 800];
    const point = { points: [[400, 293.7] as const], labels: [1] };
    const three = await decoder.predict(emb, point, size, { multimask: true, returnMasks: false });
    const auto = await decoder.predict(emb, point, size, { multimask: 'auto', returnMasks: false });
    const best = Array.from(three.iouPredictions.data).indexOf(Math.max(...three.iouPredictions.data));
    expect(auto.iouPredictions.data[0]).toBe(three.iouPredictions.data[best]);
    const box = { box: [160, 133.5, 560, 480.6] as const };
    const b0 = await decoder.predict(emb, box, size, { multimask: false, returnMasks: false });
    const bAuto = await decoder.predict(emb, box, size, { multimask: 'auto', returnMasks: false });
    expect(Array.from(bAuto.lowResMasks.data)).toEqual(Array.from(b0.lowResMasks.data));
  });

  it("splits the decoder into image-side + prompt graphs with the whole graph's values, cached per embedding", async () => {
    const dog = refTensor(outputs, 'tinyvit', 'dog.image_embeddings');
    const truck = refTensor(outputs, 'tinyvit', 'truck.image_embeddings');
    const size: [number, number] = [534, 800];
    const prompts = [
      { box: [160, 133.5, 560, 480.6] as const },
      { points: [[400, 293.7] as const, [120, 50] as const], labels: [1, 0] },
      { box: [10, 20, 300, 400] as const, points: [[100, 200] as const], labels: [1] },
    ];
    const split = new OrtDecoder(config, weights, { imageSideCacheSize: 1 });
    const whole = new OrtDecoder(config, weights, { splitDecoder: false });
    const uncached = new OrtDecoder(config, weights, { imageSideCacheSize: 0 });
    try {
      for (const emb of [dog, truck, dog]) {
        for (const p of prompts) {
          const want = await whole.predict(emb, p, size, { multimask: true });
          for (const d of [split, uncached]) {
            const got = await d.predict(emb, p, size, { multimask: true });
            for (const k of ['lowResMasks', 'iouPredictions', 'masks'] as const) {
              const a = tally.check(k, 'split-vs-whole', got[k]!, want[k]!);
              expect(a.ok, `${k} ${JSON.stringify(a)}`).toBe(true);
            }
          }
        }
        expect(split.cachedImageSides).toBe(1); // LRU of 1: the last embedding only
        expect(uncached.cachedImageSides).toBe(0);
      }
      // new weights of a block-0 image-side projection must not reuse the cached outputs
      const changed: WeightMap = new Map(weights);
      const key = 'mask_decoder.transformer.layers.0.cross_attn_token_to_image.v_proj.bias';
      const bias = weights.get(key) as FloatTensor;
      changed.set(
        key,
        floatTensor(
          bias.data.map((v) => v + 0.5),
          bias.shape,
        ),
      );
      await split.updateWeights(changed);
      await whole.updateWeights(changed);
      expect(split.cachedImageSides).toBe(0);
      const want = await whole.predict(dog, prompts[0]!, size, { multimask: false, returnMasks: false });
      const got = await split.predict(dog, prompts[0]!, size, { multimask: false, returnMasks: false });
      const a = tally.check('lowResMasks', 'split-vs-whole.updated', got.lowResMasks, want.lowResMasks);
      expect(a.ok, JSON.stringify(a)).toBe(true);
    } finally {
      await Promise.all([split.release(), whole.release(), uncached.release()]);
    }
  });

  it('rebuilds from new weights, and rejects bad inputs', async () => {
    const emb = refTensor(outputs, 'tinyvit', 'dog.image_embeddings');
    const box = { box: [160, 133.5, 560, 480.6] as const };
    const before = await decoder.predict(emb, box, [534, 800], { multimask: false, returnMasks: false });
    const changed: WeightMap = new Map(weights);
    const key = 'mask_decoder.iou_prediction_head.layers.2.bias';
    const bias = weights.get(key) as FloatTensor;
    changed.set(
      key,
      floatTensor(
        bias.data.map((v) => v + 1),
        bias.shape,
      ),
    );
    await decoder.updateWeights(changed);
    const after = await decoder.predict(emb, box, [534, 800], { multimask: false, returnMasks: false });
    expect(after.iouPredictions.data[0]).toBeCloseTo((before.iouPredictions.data[0] as number) + 1, 4);
    await decoder.updateWeights(weights);
    await expect(decoder.predict(emb, { points: [[1, 2]] }, [534, 800])).rejects.toThrow(PredictorInputError);
    await expect(
      decoder.predict(floatTensor(new Float32Array(4), [1, 4]), { box: [0, 0, 1, 1] }, [534, 800]),
    ).rejects.toThrow(/expected \[1,256,64,64\]/);
  });
});
