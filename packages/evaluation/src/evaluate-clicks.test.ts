/**
 * `evaluateClicks` on plant-mini with the seeded TinyViT decoder on the ORT engine (`ortEvalDecoder`,
 * the decoder validation scores pixels with): one sequence per instance, and its first IoU is the IoU
 * of a one-click prediction at the instance's interior point. Its numbers are those measured before
 * clicks ran on the `EvalDecoder` (on a separate `OrtDecoder`), to the last digit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '@samtune/datasets';
import { interiorPoint } from '@samtune/transforms';
import { OrtDecoder, SAM_PRESETS, type WeightMap } from '@samtune/sam-model';
import { readTorchCheckpoint } from '@samtune/tensor-files';
import { maskIoU } from './clicks-to-quality.js';
import { EmbeddingCache } from './embedding-cache.js';
import { evaluateClicks } from './evaluate-clicks.js';
import { ortEvalDecoder, tfjsEvalDecoder } from './eval-decoder.js';
import { TargetStore, type TrainItem } from '@samtune/training-data';
import { dogEmbedder, referencePath, repoPath } from './test-utils/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-eval-clicks-'));
let weights: WeightMap;
let decoder: OrtDecoder;
let items: readonly TrainItem[];
const embedder = dogEmbedder;

beforeAll(async () => {
  weights = readTorchCheckpoint(referencePath('tinyvit.pth'));
  decoder = new OrtDecoder(SAM_PRESETS.tiny_vit, weights);
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
    const evalDecoder = ortEvalDecoder(SAM_PRESETS.tiny_vit, weights);
    const r = await evaluateClicks({ decoder: evalDecoder, cache, targets, items, maxInstances: 2, maxClicks: 6 });
    await evalDecoder.release();
    expect(r).toEqual({
      noc85: 6,
      noc90: 6,
      iouAt1: 0.007777033134310245,
      iouAt3: 0.0069590281892773,
      iouAt5: 0.006684463560756128,
      instances: 2,
      maxClicks: 6,
    });

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

  it('needs a decoder that decodes clicks, and says so', async () => {
    const cache = new EmbeddingCache({ dir: tmp, encoderKey: 'fake', embedder });
    const none = tfjsEvalDecoder({} as Parameters<typeof tfjsEvalDecoder>[0]);
    await expect(
      evaluateClicks({ decoder: none, cache, targets: new TargetStore(0, false), items, maxInstances: 1 }),
    ).rejects.toThrow(/^evaluateClicks\(decoder\): expected an EvalDecoder with decodeClicks/);
  });
});
