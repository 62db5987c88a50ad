/**
 * `Sam2OrtDecoder` (the SAM 2.1 decoder graph on onnxruntime-node + host token selection + the
 * post-processing graph) end to end from the fixture's image features, against the official
 * `SAM2ImagePredictor` outputs of `../shared/fixtures/sam2-reference/`: every prompt case of dog.jpg
 * and the batch of three boxes through `predict` / `predictBatchBoxes` with prompts in ORIGINAL
 * pixels — low-res logits (±32), IoU, all four IoU outputs, object scores, the returned tokens and
 * the original-size logits — each within `1e-4 + 1e-3·max|ref|`; binary/RLE outputs agree with the
 * logits; `'auto'` and weight updates; input errors name the argument.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floatTensor, type FloatTensor, type WeightMap } from '@samtune/tensor';
import { compareTensors } from '../compare.js';
import { PredictorInputError } from '../predictor.js';
import { Sam2OrtDecoder } from './ort-decoder.js';
import type { Sam2PredictorFeatures } from './predictor.js';
import {
  readSam2Manifest,
  readSam2Tensors,
  sam2DecoderWeights,
  sam2Ref,
  type BatchCase,
  type PromptCase,
} from '../test-utils/sam2-decoder-cases.js';

const FILE = 'hiera_mini_outputs.safetensors';
const STEM = 'dog';
const manifest = readSam2Manifest();
const CASES = (manifest.cases[STEM] ?? []) as (PromptCase | BatchCase)[];
const SIZE = manifest.images[STEM]?.original_size as [number, number];
let outputs: WeightMap;
let decoder: Sam2OrtDecoder;
let features: Sam2PredictorFeatures;

beforeAll(() => {
  outputs = readSam2Tensors(FILE);
  decoder = new Sam2OrtDecoder(sam2DecoderWeights());
  features = {
    imageEmbedding: ref(`${STEM}.image_embeddings`),
    highResFeatures: [ref(`${STEM}.high_res_feats.0`), ref(`${STEM}.high_res_feats.1`)],
  };
});

afterAll(async () => decoder?.release());

function ref(key: string): FloatTensor {
  return sam2Ref(outputs, FILE, key);
}

function within(ours: FloatTensor | undefined, key: string): void {
  if (!ours) throw new Error(`${key}: no output`);
  const r = ref(key);
  expect(ours.data.length, `${key} element count`).toBe(r.data.length);
  const a = compareTensors({ shape: r.shape, data: ours.data }, r);
  expect(a.ok, `${key} ${JSON.stringify(a)}`).toBe(true);
}

function expectedTokens(c: PromptCase | BatchCase): unknown {
  return manifest.models.hiera_mini?.decode[STEM]?.find((d) => d.case === c.case)?.output_token;
}

describe('Sam2OrtDecoder vs SAM2ImagePredictor (dog, hiera_mini)', () => {
  it.each(CASES.filter((c): c is PromptCase => c.case !== 'batch').map((c) => [c.case, c] as const))(
    'case %i: low-res logits, IoU, all IoU, object score, tokens, original-size logits',
    async (i, c) => {
      const key = `${STEM}.case${i}`;
      const r = await decoder.predict(
        features,
        {
          ...(c.point_coords ? { points: c.point_coords, labels: c.point_labels ?? [] } : {}),
          ...(c.box ? { box: c.box } : {}),
          ...(c.mask_input_from_case !== null ? { maskInput: ref(`${key}.mask_input`) } : {}),
        },
        SIZE,
        { multimask: c.multimask_output },
      );
      const want = expectedTokens(c);
      expect(r.tokens).toEqual([want].flat(2));
      within(r.lowResMasks, `${key}.low_res_masks`);
      within(r.iouPredictions, `${key}.iou_predictions`);
      within(r.allIouPredictions, `${key}.all_iou_predictions`);
      within(r.objectScoreLogits, `${key}.object_score_logits`);
      expect(r.masks?.shape).toEqual([r.tokens.length, ...SIZE]);
      if (outputs.has(`${key}.masks`)) within(r.masks, `${key}.masks`);
    },
  );

  it('the batch of three boxes (predictBatchBoxes, single mask per box)', async () => {
    const c = CASES.find((x): x is BatchCase => x.case === 'batch');
    if (!c) throw new Error('manifest.json: no dog batch case');
    const r = await decoder.predictBatchBoxes(features, c.boxes, SIZE, { multimask: c.multimask_output });
    expect(r.tokens).toEqual((expectedTokens(c) as number[]).map((t) => [t]));
    within(r.lowResMasks, `${STEM}.batch.low_res_masks`);
    within(r.iouPredictions, `${STEM}.batch.iou_predictions`);
    within(r.allIouPredictions, `${STEM}.batch.all_iou_predictions`);
    within(r.objectScoreLogits, `${STEM}.batch.object_score_logits`);
    // Original-size logits of each box = the single call's (the fixture has case 1's only).
    const one = await decoder.predict(features, { box: c.boxes[1] as [number, number, number, number] }, SIZE, {
      multimask: false,
    });
    const plane = SIZE[0] * SIZE[1];
    const second = (r.masks as FloatTensor).data.subarray(plane, 2 * plane);
    expect(
      compareTensors({ shape: [plane], data: second }, { shape: [plane], data: one.masks?.data as Float32Array }).ok,
    ).toBe(true);
  });

  it('binary and RLE outputs are the logits thresholded at 0; auto keeps the best of three', async () => {
    const c = CASES.find((x): x is PromptCase => x.case === 0) as PromptCase;
    const prompts = { points: c.point_coords ?? [], labels: c.point_labels ?? [] };
    const logits = await decoder.predict(features, prompts, SIZE, { multimask: 'auto' });
    const bin = await decoder.predict(features, prompts, SIZE, { multimask: 'auto', maskOutput: 'binary' });
    const rle = await decoder.predict(features, prompts, SIZE, { multimask: 'auto', maskOutput: 'rle' });
    const all = await decoder.predict(features, prompts, SIZE, { multimask: true, maskOutput: 'none' });
    const best = [...all.iouPredictions.data].indexOf(Math.max(...all.iouPredictions.data));
    expect(logits.tokens).toEqual([best + 1]);
    expect(logits.iouPredictions.data[0]).toBe(all.iouPredictions.data[best]);
    const want = Uint8Array.from(logits.masks?.data ?? [], (v) => (v > 0 ? 1 : 0));
    expect(bin.binaryMasks?.shape).toEqual([1, ...SIZE]);
    expect(Buffer.from(bin.binaryMasks?.data ?? []).equals(Buffer.from(want))).toBe(true);
    const ones = rle.rle?.[0]?.counts.filter((_, i) => i % 2 === 1).reduce((a, b) => a + b, 0);
    expect(ones).toBe(want.reduce((a, b) => a + b, 0));
    expect(all.masks).toBeUndefined();
  });

  it('updateWeights rebuilds from new weights (zeroed IoU head bias and weights -> sigmoid 0.5)', async () => {
    const w = sam2DecoderWeights();
    for (const [k, t] of w) {
      if (k.startsWith('mask_decoder.iou_prediction_head.layers.2.'))
        w.set(k, floatTensor(new Float32Array(t.data.length), t.shape));
    }
    const d = new Sam2OrtDecoder(sam2DecoderWeights());
    try {
      await d.updateWeights(w);
      const r = await d.predict(features, { box: [100, 100, 400, 300] }, SIZE, { maskOutput: 'none' });
      expect([...r.allIouPredictions.data]).toEqual([0.5, 0.5, 0.5, 0.5]);
    } finally {
      await d.release();
    }
  });

  it('names the argument and both values for bad input', async () => {
    const bad = { ...features, highResFeatures: [features.highResFeatures[1], features.highResFeatures[0]] as const };
    await expect(decoder.predict(bad, { box: [0, 0, 10, 10] }, SIZE)).rejects.toThrow(
      /Sam2OrtDecoder\.predict\(features\.highResFeatures\[0\]\): expected \[1,32,256,256\], got \[1,64,128,128\]/,
    );
    await expect(decoder.predict(features, { points: [[1, 2]] }, SIZE)).rejects.toThrow(PredictorInputError);
    await expect(decoder.predict(features, {}, SIZE)).rejects.toThrow(/expected points or a box, got neither/);
    await expect(decoder.predictBatchBoxes(features, [], SIZE)).rejects.toThrow(/expected at least one box, got 0/);
    const d = new Sam2OrtDecoder(sam2DecoderWeights());
    await d.release();
    await expect(d.predict(features, { box: [0, 0, 1, 1] }, SIZE)).rejects.toThrow(/was released/);
  });
});
