/**
 * SamPredictor parity with the official predictor on MobileSAM (tinyvit.pth): every manifest case
 * of both images, fed the fixture's image embeddings (decoder tested independently of the encoder).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readTorchCheckpoint } from '@samtune/tensor-files';
import { SAM_PRESETS } from './config.js';
import { initBackend } from './ops/backend.js';
import { SamPredictor, PredictorInputError } from './predictor.js';
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
} from './test-utils/decoder-cases.js';
import { referencePath } from './test-utils/fixtures.js';

const MODEL = 'tinyvit';
let predictor: SamPredictor;
let outputs: WeightMap;
let checkpoint: WeightMap;
let manifest: Manifest;
const tally = new RatioTally();

beforeAll(async () => {
  await initBackend('wasm');
  manifest = readManifest();
  outputs = readOutputs(MODEL);
  checkpoint = readTorchCheckpoint(referencePath(`${MODEL}.pth`));
  predictor = new SamPredictor({ config: SAM_PRESETS.tiny_vit, weights: checkpoint });
});

afterAll(() => {
  console.log(tally.summary(MODEL));
  predictor?.dispose();
});

/** Row `i` of `[M,256,256]` as `[1,256,256]`. */
function row(t: FloatTensor, i: number): FloatTensor {
  const n = t.data.length / (t.shape[0] as number);
  return floatTensor(t.data.slice(i * n, (i + 1) * n), [1, ...t.shape.slice(1)]);
}

describe.each(['dog', 'truck'])('SamPredictor on %s (tinyvit)', (stem) => {
  // one test per case (read while collecting): no test holds the worker's event loop for minutes
  const cases = promptCases(readManifest(), stem);
  it.each(cases.map((c) => [c.case, c] as const))(
    'case %s: matches low_res_masks, iou_predictions (and masks at original size)',
    (_, c) => {
      const image = manifest.images[stem];
      if (!image) throw new Error(`manifest.json: no image '${stem}'`);
      const embedding = refTensor(outputs, MODEL, `${stem}.image_embeddings`);
      const key = `${stem}.case${c.case}`;
      let maskInput: FloatTensor | undefined;
      if (c.mask_input_from_case !== null) {
        maskInput = refTensor(outputs, MODEL, `${key}.mask_input`);
        // The fixture's mask input is exactly the best-IoU low-res mask of the earlier case.
        const prevIou = refTensor(outputs, MODEL, `${stem}.case${c.mask_input_from_case}.iou_predictions`).data;
        const best = prevIou.indexOf(Math.max(...prevIou));
        const prev = row(refTensor(outputs, MODEL, `${stem}.case${c.mask_input_from_case}.low_res_masks`), best);
        expect(Array.from(maskInput.data)).toEqual(Array.from(prev.data));
      }
      const refMasks = outputs.get(`${key}.masks`);
      const r = predictor.predict(
        embedding,
        {
          ...(c.point_coords ? { points: c.point_coords, labels: c.point_labels ?? [] } : {}),
          ...(c.box ? { box: c.box } : {}),
          ...(maskInput ? { maskInput } : {}),
        },
        image.original_size,
        { multimask: c.multimask_output, returnMasks: refMasks !== undefined },
      );
      const low = tally.check('low_res_masks', key, r.lowResMasks, refTensor(outputs, MODEL, `${key}.low_res_masks`));
      expect(low.ok, `${key}.low_res_masks ${JSON.stringify(low)}`).toBe(true);
      const iou = tally.check(
        'iou_predictions',
        key,
        r.iouPredictions,
        refTensor(outputs, MODEL, `${key}.iou_predictions`),
      );
      expect(iou.ok, `${key}.iou_predictions ${JSON.stringify(iou)}`).toBe(true);
      if (refMasks) {
        if (!r.masks) throw new Error(`${key}: predict returned no masks`);
        const m = tally.check('masks', key, r.masks, refTensor(outputs, MODEL, `${key}.masks`));
        expect(m.ok, `${key}.masks ${JSON.stringify(m)}`).toBe(true);
      }
      expect(outputs.has('dog.case1.masks')).toBe(true);
    },
  );

  it('matches the batch of three boxes decoded at once', () => {
    const image = manifest.images[stem];
    if (!image) throw new Error(`manifest.json: no image '${stem}'`);
    const bc = batchCase(manifest, stem);
    const r = predictor.predictBatchBoxes(
      refTensor(outputs, MODEL, `${stem}.image_embeddings`),
      bc.boxes,
      image.original_size,
      {
        multimask: bc.multimask_output,
        returnMasks: false,
      },
    );
    expect(r.masks).toBeUndefined();
    const key = `${stem}.batch`;
    const low = tally.check('low_res_masks', key, r.lowResMasks, refTensor(outputs, MODEL, `${key}.low_res_masks`));
    expect(low.ok, `${key}.low_res_masks ${JSON.stringify(low)}`).toBe(true);
    const iou = tally.check(
      'iou_predictions',
      key,
      r.iouPredictions,
      refTensor(outputs, MODEL, `${key}.iou_predictions`),
    );
    expect(iou.ok, `${key}.iou_predictions ${JSON.stringify(iou)}`).toBe(true);
  });
});

describe('SamPredictor API', () => {
  it('round-trips mask-decoder weights, rejects bad prompts, and frees its tensors on dispose', () => {
    const weights = predictor.maskDecoderWeights();
    expect([...weights.keys()].every((k) => k.startsWith('mask_decoder.'))).toBe(true);
    expect(weights.get('mask_decoder.mask_tokens.weight')?.shape).toEqual([4, 256]);
    expect(predictor.trainableVariables().size).toBe(weights.size);
    const embedding = refTensor(outputs, MODEL, 'dog.image_embeddings');
    expect(() => predictor.predict(embedding, { points: [[1, 2]] }, [534, 800])).toThrow(PredictorInputError);
    expect(() =>
      predictor.predict(floatTensor(new Float32Array(4), [1, 4]), { box: [0, 0, 1, 1] }, [534, 800]),
    ).toThrow(/expected \[1,256,64,64\]/);

    const before = tf.memory().numTensors;
    predictor.predict(embedding, { box: [160, 133.5, 560, 480.6] }, [534, 800], {
      multimask: false,
      returnMasks: false,
    });
    expect(tf.memory().numTensors).toBe(before);

    const other = new SamPredictor({ config: SAM_PRESETS.tiny_vit, weights: checkpoint, trainable: false });
    other.setMaskDecoderWeights(weights);
    const n = tf.memory().numTensors;
    const copy = other.maskDecoderWeights();
    expect(copy.size).toBe(weights.size);
    expect(Array.from(copy.get('mask_decoder.iou_token.weight')?.data ?? [])).toEqual(
      Array.from(weights.get('mask_decoder.iou_token.weight')?.data ?? [0]),
    );
    other.dispose();
    expect(tf.memory().numTensors).toBeLessThan(n);
    expect(() => other.predict(embedding, { box: [0, 0, 1, 1] }, [534, 800])).toThrow(/disposed/);
  });
});
