/**
 * `evaluate` on the ORT decoder engine (`weights` given) against the tfjs predictor's own official
 * path: the original-size logits it scores agree with `SamPredictor.predict`'s (fixture tolerance),
 * and the metrics and the loss match the tfjs-engine evaluation of the same items.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '@samtune/datasets';
import { compareArrays, SAM_PRESETS, SamPredictor, type WeightMap } from '@samtune/sam-model';
import { readTorchCheckpoint } from '@samtune/tensor-files';
import { EmbeddingCache } from './embedding-cache.js';
import { evaluate } from './evaluate.js';
import { TargetStore, type TrainItem } from '@samtune/training-data';
import { setupRuntime } from './setup.js';
import { dogEmbedder, referencePath, repoPath } from './test-utils/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-eval-ort-'));
let predictor: SamPredictor;
let weights: WeightMap;
let items: readonly TrainItem[];

const embedder = dogEmbedder;

beforeAll(async () => {
  await setupRuntime('wasm', true);
  weights = readTorchCheckpoint(referencePath('tinyvit.pth'));
  predictor = new SamPredictor({ config: SAM_PRESETS.tiny_vit, weights });
  items = (await loadDataset(repoPath('examples/plant-mini'))).subsets.valid?.slice(0, 2) ?? [];
});
afterAll(() => {
  predictor?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('evaluate on the ORT engine', () => {
  it.each(['box', 'point'] as const)('matches the tfjs engine with %s prompts', async (mode) => {
    expect(items).toHaveLength(2);
    const cache = new EmbeddingCache({ dir: tmp, encoderKey: 'fake', embedder });
    const targets = new TargetStore(0, mode === 'point');
    const logits = new Map<string, Float32Array>();
    const common = {
      predictor,
      cache,
      targets,
      items,
      prompt: { mode, points: 1, jitterFraction: 0, jitterPixels: 0 },
      maxInstances: 2,
      microBatch: 4,
    };
    const ort = await evaluate({
      ...common,
      weights,
      onPrediction: (item, id, l) => logits.set(`${item.id}#${id}`, l),
    });
    const tfjs = await evaluate(common);
    // Without onPrediction the masks come thresholded from the post-processing graph: same scores.
    const binary = await evaluate({ ...common, weights, loss: false });
    expect(binary).toEqual({ ...ort, loss: Number.NaN });
    expect(ort.instances).toBe(4);
    expect(tfjs.instances).toBe(4);
    expect(Math.abs(ort.f1 - tfjs.f1)).toBeLessThanOrEqual(1e-3);
    expect(Math.abs(ort.iou - tfjs.iou)).toBeLessThanOrEqual(1e-3);
    expect(Math.abs(ort.loss - tfjs.loss)).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(tfjs.loss)));
    if (mode === 'box') {
      for (const item of items) {
        const emb = (await cache.get(item.imagePath)).embedding;
        for (const t of (await targets.get(item)).targets.slice(0, 2)) {
          const ref = predictor.predict(emb, { box: t.box }, [item.height, item.width], { multimask: false });
          const a = compareArrays(logits.get(`${item.id}#${t.instanceId}`) as Float32Array, ref.masks?.data ?? []);
          expect(a.ok, JSON.stringify(a)).toBe(true);
        }
      }
    }
  });
});
