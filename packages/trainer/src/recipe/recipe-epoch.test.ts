/**
 * The recipe inside `trainEpoch` on the tfjs engine: one image (dog.jpg's embedding, two synthetic
 * rectangle instances at 534x800), `loss.resolution original` with `prompt.iterations 1`, against the
 * same epoch with the default recipe from the same weights.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SAM_PRESETS, type WeightMap } from '@samtune/sam-model';
import { readTorchCheckpoint } from '@samtune/tensor-files';
import { setupRuntime } from '@samtune/evaluation';
import { TargetStore } from '@samtune/training-data';
import { defaultTrainConfig, validateTrainConfig, type TrainConfig } from '../config.js';
import { createTrainEngine } from '../engine/registry.js';
import { TrainState } from '../engine/train-state.js';
import { trainEpoch } from '../train-epoch.js';
import { referencePath } from '../test-utils/fixtures.js';
import { DOG_ITEM as item, dogEmbeddingCache } from '../test-utils/dog-item.js';

let weights: WeightMap;

beforeAll(async () => {
  await setupRuntime('wasm', true);
  weights = readTorchCheckpoint(referencePath('tinyvit.pth'));
});

async function epoch(c: TrainConfig) {
  const engine = createTrainEngine(c.runtime.engine, { config: SAM_PRESETS.tiny_vit, weights, adam: c.optimizer });
  engine.load(TrainState.fromCheckpoint(weights));
  const cache = dogEmbeddingCache();
  try {
    return await trainEpoch({
      config: c,
      engine,
      cache,
      targets: new TargetStore(0, false),
      items: [item],
      epoch: 1,
      onEvent: () => undefined,
    });
  } finally {
    engine.dispose();
  }
}

describe('trainEpoch with the recipe (tfjs engine)', () => {
  it('original + 1 simulated click trains, with a loss unlike the default recipe', async () => {
    const c = defaultTrainConfig();
    Object.assign(c, { checkpoint: 'tiny_vit', out: '/runs/x' });
    c.data.root = '/virtual';
    c.runtime.engine = 'tfjs';
    c.training.microBatch = 2;
    const plain = await epoch(validateTrainConfig(c));
    c.loss.resolution = 'original';
    c.prompt.iterations = 1;
    const recipe = await epoch(validateTrainConfig(c));
    expect([plain.prompts, recipe.prompts, recipe.steps]).toEqual([2, 2, 1]);
    for (const v of [recipe.loss, recipe.focal, recipe.dice, recipe.iou]) expect(Number.isFinite(v)).toBe(true);
    expect(Math.abs(recipe.loss - plain.loss)).toBeGreaterThan(1e-4);
    expect(recipe.loss).toBeCloseTo(20 * recipe.focal + recipe.dice + recipe.iou, 4);
  });
});
