import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '@samtune/datasets';
import type { OnnxSamModel } from '@samtune/export';
import type { PredictPrompts } from '@samtune/sam-model';
import { datumaroFixture } from '@samtune/test-fixtures';
import { afterAll, describe, expect, it } from 'vitest';
import { onnxPairEvaluator } from './optimize-recipe.js';

const cache = mkdtempSync(join(tmpdir(), 'samtune-opt-cache-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

const cocoFixture = (): string => datumaroFixture('coco_dataset/coco_instances');

describe('onnxPairEvaluator', () => {
  it("scores a pair with samtune eval's recipe: one tight box per instance, pixel F1 at the original size", async () => {
    const ds = await loadDataset(cocoFixture());
    const val = ds.subsets.val ?? [];
    const gt = await val[0]!.instances[0]!.mask();
    const boxes: PredictPrompts[] = [];
    const fake = (logit: (v: number) => number) =>
      ({
        encode: async () => ({ dtype: 'float32', shape: [1, 256, 64, 64], data: new Float32Array(256 * 64 * 64) }),
        predict: async (_e: unknown, p: PredictPrompts) => {
          boxes.push(p);
          return { masks: { dtype: 'float32', shape: [1, 10, 5], data: Float32Array.from(gt.data, logit) } };
        },
      }) as unknown as OnnxSamModel;
    const evaluate = onnxPairEvaluator(val, cache, 1024);
    const perfect = await evaluate({
      label: 'fp32',
      model: fake((v) => (v ? 5 : -5)),
      encoderFile: cocoFixture() + '/annotations/instances_val.json',
      decoderFile: '',
    });
    // Crowd instances are scored like the others (eval's default, --crowd keep): the fake returns the
    // polygon's 2 pixels for the crowd RLE's 20 too (TP 4, FN 18).
    expect(perfect).toEqual({ f1: 8 / 26, iou: 4 / 22, dice: 8 / 26, images: 1, instances: 2 });
    expect(boxes[0]?.box).toEqual([0, 0, 0, 1]); // the mask's tight box (inclusive pixel indices), not the crowd region
    const empty = await evaluate({
      label: 'int8',
      model: fake(() => -1),
      encoderFile: cocoFixture() + '/annotations/instances_val.json',
      decoderFile: '',
    });
    expect(empty.f1).toBe(0);
  });
});
