/**
 * `Sam2Predictor` (tfjs) end to end from the fixture's image features: case 1 of dog.jpg (a box,
 * single mask) through `predict` — prompt transform, decoder, stability rule, clamp, original-size
 * logits — against the official `SAM2ImagePredictor` outputs; input errors name the argument.
 * (Every case and the batch run through the same functions in mask-decoder.test.ts, on ORT and tfjs.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FloatTensor, WeightMap } from '@samtune/tensor';
import { floatTensor } from '@samtune/tensor';
import { compareTensors } from '../compare.js';
import { initBackend } from '../ops/backend.js';
import { PredictorInputError } from '../predictor.js';
import { Sam2Predictor, type Sam2PredictorFeatures } from './predictor.js';
import {
  readSam2Manifest,
  readSam2Tensors,
  sam2DecoderWeights,
  sam2Ref,
  type PromptCase,
} from '../test-utils/sam2-decoder-cases.js';

const FILE = 'hiera_mini_outputs.safetensors';
let predictor: Sam2Predictor;
let outputs: WeightMap;
let features: Sam2PredictorFeatures;

beforeAll(async () => {
  await initBackend('wasm');
  outputs = readSam2Tensors(FILE);
  predictor = new Sam2Predictor({ weights: sam2DecoderWeights(), trainable: false });
  features = {
    imageEmbedding: sam2Ref(outputs, FILE, 'dog.image_embeddings'),
    highResFeatures: [sam2Ref(outputs, FILE, 'dog.high_res_feats.0'), sam2Ref(outputs, FILE, 'dog.high_res_feats.1')],
  };
});

afterAll(() => predictor?.dispose());

const within = (ours: FloatTensor, key: string): void => {
  const ref = sam2Ref(outputs, FILE, key);
  const a = compareTensors({ shape: ref.shape, data: ours.data }, ref);
  expect(ours.data.length).toBe(ref.data.length);
  expect(a.ok, `${key} ${JSON.stringify(a)}`).toBe(true);
};

describe('Sam2Predictor.predict (tfjs) vs SAM2ImagePredictor, dog case 1', () => {
  it('box -> token 0 (stable), low-res logits, IoU, object score and original-size logits', () => {
    const manifest = readSam2Manifest();
    const c = manifest.cases.dog?.find((x): x is PromptCase => x.case === 1);
    const size = manifest.images.dog?.original_size;
    if (!c?.box || !size) throw new Error('manifest.json: no dog case 1 with a box');
    const r = predictor.predict(features, { box: c.box }, size, { multimask: false });
    expect(r.tokens).toEqual([[0]]);
    within(r.lowResMasks, 'dog.case1.low_res_masks');
    within(r.iouPredictions, 'dog.case1.iou_predictions');
    within(r.allIouPredictions, 'dog.case1.all_iou_predictions');
    within(r.objectScoreLogits, 'dog.case1.object_score_logits');
    if (!r.masks) throw new Error('no original-size masks');
    expect(r.masks.shape).toEqual([1, 1, ...size]);
    within(r.masks, 'dog.case1.masks');
  });

  it('names the argument and both shapes for wrong features or prompts', () => {
    const bad = { ...features, highResFeatures: [features.highResFeatures[1], features.highResFeatures[0]] as const };
    expect(() => predictor.predict(bad, { box: [0, 0, 10, 10] }, [534, 800])).toThrow(
      /Sam2Predictor\.predict\(features\.highResFeatures\[0\]\): expected \[1,32,256,256\], got \[1,64,128,128\]/,
    );
    expect(() => predictor.predict(features, { points: [[1, 2]] }, [534, 800])).toThrow(PredictorInputError);
    expect(() => predictor.predictBatchBoxes(features, [], [534, 800])).toThrow(/expected at least one box, got 0/);
    const mask = floatTensor(new Float32Array(4), [1, 2, 2]);
    expect(() => predictor.predict(features, { box: [0, 0, 1, 1], maskInput: mask }, [534, 800])).toThrow(
      /maskInput\): expected \[1,256,256\], got \[1,2,2\]/,
    );
  });
});
