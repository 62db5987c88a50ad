/**
 * `evaluate` against the predictor's own official path: for every instance, `SamPredictor.predict`
 * with the instance's tight box returns SAM's `postprocess_masks` logits at the original size. The
 * logits `evaluate` scores must agree with those (fixture tolerance), and the micro-averaged
 * counts over them give the same F1/IoU/Dice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '@samtune/datasets';
import { compareArrays, SAM_PRESETS, SamPredictor } from '@samtune/sam-model';
import { readTorchCheckpoint } from '@samtune/tensor-files';
import { EmbeddingCache } from './embedding-cache.js';
import { evaluate } from './evaluate.js';
import { MetricAccumulator } from './metrics.js';
import { TargetStore, type TrainItem } from '@samtune/training-data';
import { setupRuntime } from './setup.js';
import { dogEmbedder, referencePath, repoPath } from './test-utils/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-eval-'));
let predictor: SamPredictor;
let items: readonly TrainItem[];

const embedder = dogEmbedder;

beforeAll(async () => {
  await setupRuntime('wasm', true);
  predictor = new SamPredictor({
    config: SAM_PRESETS.tiny_vit,
    weights: readTorchCheckpoint(referencePath('tinyvit.pth')),
  });
  items = (await loadDataset(repoPath('examples/plant-mini'))).subsets.valid?.slice(0, 2) ?? [];
});
afterAll(() => {
  predictor?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('evaluate', () => {
  it('equals micro-averaged metrics over SamPredictor.predict masks at the original size', async () => {
    expect(items).toHaveLength(2);
    const cache = new EmbeddingCache({ dir: tmp, encoderKey: 'fake', embedder });
    const targets = new TargetStore(0, false);
    const logits = new Map<string, Float32Array>();
    const r = await evaluate({
      predictor,
      cache,
      targets,
      items,
      prompt: { mode: 'box', points: 1, jitterFraction: 0, jitterPixels: 0 },
      maxInstances: 2,
      microBatch: 4,
      onPrediction: (item, id, l) => logits.set(`${item.id}#${id}`, l),
    });
    expect(r.images).toBe(2);
    expect(r.instances).toBe(4);
    expect(Number.isFinite(r.loss)).toBe(true);

    const acc = new MetricAccumulator();
    let worst = 0;
    for (const item of items) {
      const emb = (await cache.get(item.imagePath)).embedding;
      for (const t of (await targets.get(item)).targets.slice(0, 2)) {
        const out = predictor.predict(emb, { box: t.box }, [item.height, item.width], { multimask: false });
        const ours = logits.get(`${item.id}#${t.instanceId}`) as Float32Array;
        const a = compareArrays(ours, out.masks?.data ?? []);
        expect(a.ok, JSON.stringify(a)).toBe(true);
        worst = Math.max(worst, a.ratio);
        const inst = item.instances.find((i) => i.id === t.instanceId);
        acc.add(out.masks?.data ?? [], (await inst?.mask())?.data ?? [], 'logits');
      }
    }
    const want = acc.compute();
    console.log(
      `evaluate: F1 ${r.f1.toFixed(6)} vs predictor ${want.f1.toFixed(6)}; original-size logits worst ratio ${worst.toFixed(4)}`,
    );
    expect(logits.size).toBe(4);
    // lowResToOriginal (JS) and postprocessMasks (tfjs) may differ by float rounding at the 0 threshold.
    expect(Math.abs(r.f1 - want.f1)).toBeLessThanOrEqual(1e-3);
    expect(Math.abs(r.iou - want.iou)).toBeLessThanOrEqual(1e-3);
    expect(r.dice).toBe(r.f1);
  });
});
