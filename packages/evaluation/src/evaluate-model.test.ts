import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '@samtune/datasets';
import { datumaroFixture } from '@samtune/test-fixtures';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddingCache } from './embedding-cache.js';
import { evaluateModel, type BoxPromptModel } from './evaluate-model.js';
import { TargetStore } from '@samtune/training-data';

const dir = mkdtempSync(join(tmpdir(), 'samtune-evalmodel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('evaluateModel', () => {
  it('scores a box-prompt model with the eval recipe: tight box per instance (crowd left out with ignore), pixel F1 at the original size', async () => {
    const val = (await loadDataset(datumaroFixture('coco_dataset/coco_instances'))).subsets.val ?? [];
    const gt = await val[0]!.instances[0]!.mask();
    const cache = new EmbeddingCache({
      dir,
      encoderKey: 'fake-encoder',
      embedder: {
        embed: async () => ({ dtype: 'float32', shape: [1, 256, 64, 64], data: new Float32Array(256 * 64 * 64) }),
      },
    });
    const boxes: number[][] = [];
    const model = (logit: (v: number) => number): BoxPromptModel => ({
      predict: async (_emb, p) => {
        boxes.push([...p.box]);
        return {
          masks: { dtype: 'float32', shape: [1, gt.height, gt.width], data: Float32Array.from(gt.data, logit) },
        };
      },
    });
    const targets = new TargetStore(0, false, 'ignore');
    expect(await evaluateModel({ model: model((v) => (v ? 5 : -5)), cache, targets, items: val })).toEqual({
      f1: 1,
      iou: 1,
      dice: 1,
      images: 1,
      instances: 1,
    });
    expect(boxes[0]).toEqual([0, 0, 0, 1]); // the mask's tight box (inclusive pixel indices), not the crowd region
    const empty = await evaluateModel({ model: model(() => -1), cache, targets, items: val });
    expect(empty).toMatchObject({ f1: 0, iou: 0, images: 1, instances: 1 });
    // Crowd kept (the default): the crowd RLE (20 px, holding the polygon's 2) is scored too, and the
    // model's polygon mask covers 2 of its 20 pixels: TP 4, FN 18.
    const kept = await evaluateModel({
      model: model((v) => (v ? 5 : -5)),
      cache,
      targets: new TargetStore(0, false),
      items: val,
    });
    expect(kept).toEqual({ f1: 8 / 26, iou: 4 / 22, dice: 8 / 26, images: 1, instances: 2 });
  });
});
