import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '@samtune/datasets';
import type { OnnxSamModel } from '@samtune/export';
import type { PredictPrompts } from '@samtune/sam-model';
import { datumaroFixture } from '@samtune/test-fixtures';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../command.js';
import { COMMANDS } from './index.js';
import { onnxPairEvaluator, optimizeCommand, parseOptimizeArgs } from './optimize.js';

const cache = mkdtempSync(join(tmpdir(), 'samtune-opt-cache-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

const cocoFixture = (): string => datumaroFixture('coco_dataset/coco_instances');

describe('samtune optimize flags', () => {
  it('parses the flags with their defaults', () => {
    expect(parseOptimizeArgs(['--model', 'out/m', '--data-root', 'd'])).toMatchObject({
      model: 'out/m',
      dataRoot: 'd',
      subsetSize: 100,
      maxF1Drop: 1,
      method: 'minmax',
      dynamic: false,
      latencyRuns: 20,
      promptsPerImage: 4,
      seed: 0,
    });
    const a = parseOptimizeArgs([
      '--model',
      'm',
      '--data-root',
      'd',
      '--subset-size',
      '16',
      '--max-f1-drop',
      '0.5',
      '--method',
      'percentile',
      '--percentile',
      '99.9',
      '--dynamic',
      '--only',
      'decoder',
      '--threads',
      '4',
      '--ops',
      'MatMul,Conv',
      '--activation-matmul',
    ]);
    expect(a).toMatchObject({
      subsetSize: 16,
      maxF1Drop: 0.5,
      method: 'percentile',
      percentile: 99.9,
      dynamic: true,
      only: 'decoder',
      threads: 4,
      ops: ['MatMul', 'Conv'],
      activationMatMul: true,
    });
  });

  it('refuses bad flags with a UsageError that names them', () => {
    expect(() => parseOptimizeArgs(['--data-root', 'd'])).toThrow(/--model is required/);
    expect(() => parseOptimizeArgs(['--model', 'm', '--data-root', 'd', '--latency-runs', '5'])).toThrow(
      /--latency-runs must be an integer >= 20, got '5'/,
    );
    expect(() => parseOptimizeArgs(['--model', 'm', '--data-root', 'd', '--method', 'kl'])).toThrow(UsageError);
    expect(() => parseOptimizeArgs(['--model', 'm', '--data-root', 'd', '--ops', 'MatMul,Relu'])).toThrow(
      /--ops must list op types among MatMul,Gemm,Conv,ConvTranspose, got 'MatMul,Relu'/,
    );
    expect(() => parseOptimizeArgs(['--model', 'm', '--data-root', 'd', '--max-f1-drop=-1'])).toThrow(
      /--max-f1-drop must be a number of F1 points >= 0/,
    );
  });

  it('is registered', () => {
    expect(COMMANDS).toContain(optimizeCommand);
  });
});

describe('onnxPairEvaluator', () => {
  it("scores a pair with samtune eval's recipe: one tight box per non-crowd instance, pixel F1 at the original size", async () => {
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
    const evaluate = onnxPairEvaluator(val, cache);
    const perfect = await evaluate({
      label: 'fp32',
      model: fake((v) => (v ? 5 : -5)),
      encoderFile: cocoFixture() + '/annotations/instances_val.json',
      decoderFile: '',
    });
    expect(perfect).toEqual({ f1: 1, iou: 1, dice: 1, images: 1, instances: 1 });
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
