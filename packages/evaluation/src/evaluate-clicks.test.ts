/**
 * `evaluateClicks` on plant-mini with the seeded TinyViT decoder on the ORT engine: one sequence per
 * instance, and its first IoU is the IoU of a one-click prediction at the instance's interior point.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '@samtune/datasets';
import { interiorPoint } from '@samtune/transforms';
import { OrtDecoder, SAM_PRESETS } from '@samtune/sam-model';
import { readTorchCheckpoint } from '@samtune/tensor-files';
import { maskIoU } from './clicks-to-quality.js';
import { EmbeddingCache } from './embedding-cache.js';
import { evaluateClicks } from './evaluate-clicks.js';
import { TargetStore, type TrainItem } from '@samtune/training-data';
import { dogEmbedder, referencePath, repoPath } from './test-utils/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-eval-clicks-'));
let decoder: OrtDecoder;
let items: readonly TrainItem[];
const embedder = dogEmbedder;

beforeAll(async () => {
  decoder = new OrtDecoder(SAM_PRESETS.tiny_vit, readTorchCheckpoint(referencePath('tinyvit.pth')));
  items = (await loadDataset(repoPath('examples/plant-mini'))).subsets.valid?.slice(0, 1) ?? [];
});
afterAll(async () => {
  await decoder?.release();
  rmSync(tmp, { recursive: true, force: true });
});

describe('evaluateClicks', () => {
  it('runs the protocol per instance on the ORT engine; IoU@1 is the one-click prediction at the interior point', async () => {
    expect(items).toHaveLength(1);
    const cache = new EmbeddingCache({ dir: tmp, encoderKey: 'fake', embedder });
    const targets = new TargetStore(0, false);
    const r = await evaluateClicks({ decoder, cache, targets, items, maxInstances: 2, maxClicks: 6 });
    expect(r.instances).toBe(2);
    expect(r.maxClicks).toBe(6);
    for (const v of [r.noc85, r.noc90]) expect(v >= 1 && v <= 6).toBe(true);
    expect(r.noc90).toBeGreaterThanOrEqual(r.noc85);

    const item = items[0] as TrainItem;
    const { embedding, originalSize } = await cache.get(item.imagePath);
    let sum = 0;
    for (const t of (await targets.get(item)).targets.slice(0, 2)) {
      const gt = await (item.instances.find((i) => i.id === t.instanceId) as TrainItem['instances'][number]).mask();
      const one = await decoder.predict(embedding, { points: [interiorPoint(gt)], labels: [1] }, originalSize, {
        multimask: 'auto',
        maskOutput: 'binary',
      });
      sum += maskIoU((one.binaryMasks as { data: Uint8Array }).data, gt.data);
    }
    expect(r.iouAt1).toBeCloseTo(sum / 2, 12);
  });
});
