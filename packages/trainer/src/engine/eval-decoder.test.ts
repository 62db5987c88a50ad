/**
 * Validation runs on the engine that trains (`TrainEngine.evalDecoder`), loss included: loaded with
 * the same state (the checkpoint's mask decoder, scaled by 1.02, so that it is not the checkpoint),
 * the ort engine (OrtDecoder + the loss graph) and the tfjs engine (its own predictor + TfjsOps)
 * give the same metrics and loss, and both differ from the checkpoint's own decoder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAM_PRESETS, SamPredictor, type WeightMap } from '@samtune/sam-model';
import { readTorchCheckpoint } from '@samtune/tensor-files';
import { evaluate, setupRuntime, tfjsEvalDecoder, type EvalDecoder, type EvalResult } from '@samtune/evaluation';
import { TargetStore } from '@samtune/training-data';
import { createTrainEngine } from './registry.js';
import { TrainState } from './train-state.js';
import { referencePath } from '../test-utils/fixtures.js';
import { DOG_ITEM, dogEmbeddingCache } from '../test-utils/dog-item.js';

let weights: WeightMap;
let predictor: SamPredictor;

beforeAll(async () => {
  await setupRuntime('wasm', true);
  weights = readTorchCheckpoint(referencePath('tinyvit.pth'));
  predictor = new SamPredictor({ config: SAM_PRESETS.tiny_vit, weights });
});
afterAll(() => predictor?.dispose());

async function validate(decoder: EvalDecoder): Promise<EvalResult> {
  try {
    return await evaluate({
      predictor,
      decoder,
      cache: dogEmbeddingCache(),
      targets: new TargetStore(0, false),
      items: [DOG_ITEM],
      prompt: { mode: 'box', points: 1, jitterFraction: 0, jitterPixels: 0 },
      maxInstances: 0,
      microBatch: 4,
    });
  } finally {
    await decoder.release();
  }
}

describe('TrainEngine.evalDecoder', () => {
  it('ort and tfjs validate the same loaded state alike, loss included, and not as the checkpoint', async () => {
    const state = TrainState.fromCheckpoint(weights);
    for (let i = 0; i < state.params.length; i++) state.params[i] = (state.params[i] as number) * 1.02;
    const results: EvalResult[] = [];
    for (const name of ['ort', 'tfjs'] as const) {
      const engine = createTrainEngine(name, { config: SAM_PRESETS.tiny_vit, weights, adam: {} });
      try {
        engine.load(state);
        results.push(await validate(engine.evalDecoder()));
      } finally {
        engine.dispose();
      }
    }
    const [ort, tfjs] = results as [EvalResult, EvalResult];
    const base = await validate(tfjsEvalDecoder(predictor));
    expect([ort.instances, tfjs.instances]).toEqual([2, 2]);
    expect(Math.abs(ort.f1 - tfjs.f1)).toBeLessThanOrEqual(1e-3);
    expect(Math.abs(ort.iou - tfjs.iou)).toBeLessThanOrEqual(1e-3);
    expect(Math.abs(ort.loss - tfjs.loss)).toBeLessThanOrEqual(1e-3 * Math.abs(tfjs.loss));
    expect(Math.abs(tfjs.loss - base.loss)).toBeGreaterThan(3e-3 * Math.abs(base.loss));
  });
});
