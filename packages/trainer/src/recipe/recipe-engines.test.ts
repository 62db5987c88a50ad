/**
 * The recipe on both engines, same seed: simulated clicks (`prompt.iterations 2`) and the loss at the
 * original size (`loss.resolution original`) give the same per-step loss on the ort engine as on the
 * tfjs engine within 0.5% over 3 steps (one image: dog.jpg's embedding, two rectangle instances at
 * 534x800, a micro-batch per prompt; each epoch is one optimizer step).
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

/** Lets vitest's worker answer its RPC between long synchronous computations (busy machines). */
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

let weights: WeightMap;

beforeAll(async () => {
  await setupRuntime('wasm', true);
  weights = readTorchCheckpoint(referencePath('tinyvit.pth'));
});

/** Per-step losses of 3 one-step epochs on `engine`. */
async function losses(c: TrainConfig, engine: 'ort' | 'tfjs'): Promise<number[]> {
  const e = createTrainEngine(engine, { config: SAM_PRESETS.tiny_vit, weights, adam: c.optimizer });
  e.load(TrainState.fromCheckpoint(weights));
  const cache = dogEmbeddingCache();
  const targets = new TargetStore(0, false);
  const out: number[] = [];
  try {
    for (let epoch = 1; epoch <= 3; epoch++) {
      const config = { ...c, runtime: { ...c.runtime, engine } };
      await tick();
      const totals = await trainEpoch({ config, engine: e, cache, targets, items: [item], epoch, onEvent: () => {} });
      expect([totals.steps, totals.prompts]).toEqual([1, 2]);
      out.push(totals.loss);
    }
  } finally {
    e.dispose();
  }
  return out;
}

function recipe(resolution: 'lowres' | 'original', iterations: number): TrainConfig {
  const c = defaultTrainConfig();
  Object.assign(c, { checkpoint: 'tiny_vit', out: '/runs/x' });
  c.data.root = '/virtual';
  c.training.microBatch = 1;
  c.optimizer.lr = 1e-4;
  c.loss.resolution = resolution;
  c.prompt.iterations = iterations;
  return validateTrainConfig(c);
}

describe('the recipe on the ort engine equals the tfjs engine (3 steps, same seed)', () => {
  it.each([
    ['simulated clicks N=2', 'lowres', 2],
    ['loss.resolution original', 'original', 0],
  ] as const)(
    '%s: per-step losses within 0.5%%',
    async (_, resolution, iterations) => {
      const c = recipe(resolution, iterations);
      const tfjs = await losses(c, 'tfjs');
      await tick();
      const ort = await losses(c, 'ort');
      const rel = ort.map((l, i) => Math.abs(l - (tfjs[i] as number)) / (tfjs[i] as number));
      console.log(`${_}: ort ${ort.map((x) => x.toFixed(5))}; tfjs ${tfjs.map((x) => x.toFixed(5))}`);
      for (const r of rel) expect(r).toBeLessThanOrEqual(0.005);
      expect(new Set(ort.map((x) => x.toFixed(6))).size).toBe(3); // the weights moved between steps
    },
    900_000,
  );
});
