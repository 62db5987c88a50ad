import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { TINY_VIT_ENCODER, vitConfig } from '../config.js';
import { initBackend } from '../ops/backend.js';
import { TfjsOps } from '../ops/tfjs-ops.js';
import type { FloatTensor, WeightMap } from '@samtune/tensor';
import { imageEncoder, ImageEncoderInputError, UnpreparedWeightsError } from './image-encoder.js';
import {
  attentionBiasIndices,
  attentionBiasKey,
  foldConvBatchNorm,
  fusedConvKeys,
  gatherAttentionBiases,
  gatherRelPos,
  ImageEncoderWeightError,
  prepareImageEncoderWeights,
  RelPosInterpolationError,
  relPosTableKey,
  tinyVitConvBnPrefixes,
} from './prepare.js';
import { patchMergingStride } from './tiny-vit-blocks.js';
import { loadCheckpoint } from './test-utils/fixture-io.js';
import { windowPartition, windowUnpartition } from './window.js';

const f32 = (data: number[], shape: number[]): FloatTensor => ({
  dtype: 'float32',
  shape,
  data: new Float32Array(data),
});

describe('build-time constants', () => {
  it('attentionBiasIndices follows first-seen (|dy|,|dx|) order like attention_bias_idxs', () => {
    // points (0,0),(0,1),(1,0),(1,1): offsets (0,0)=0, (0,1)=1, (1,0)=2, (1,1)=3
    expect([...attentionBiasIndices(2)]).toEqual([0, 1, 2, 3, 1, 0, 3, 2, 2, 3, 0, 1, 3, 2, 1, 0]);
    const idx7 = attentionBiasIndices(7);
    expect(Math.max(...idx7)).toBe(48);
    expect(idx7[0 * 49 + 48]).toBe(6 * 7 + 6); // (0,0) vs (6,6)
  });

  it('gatherAttentionBiases builds [heads,N,N] and rejects a wrong offset count', () => {
    const biases = f32([10, 11, 12, 13, 20, 21, 22, 23], [2, 4]);
    const ab = gatherAttentionBiases(biases, 2);
    expect(ab.shape).toEqual([2, 4, 4]);
    expect([...ab.data.subarray(16, 20)]).toEqual([20, 21, 22, 23]);
    expect([...ab.data.subarray(4, 8)]).toEqual([11, 10, 13, 12]);
    expect(() => gatherAttentionBiases(f32([1, 2, 3], [1, 3]), 2)).toThrow(ImageEncoderWeightError);
  });

  it('gatherRelPos picks rel_pos[i - j + k - 1] and refuses the interpolation branch', () => {
    const rel = f32([0, 0.5, 1, 1.5, 2, 2.5], [3, 2]);
    const t = gatherRelPos(rel, 2, 2);
    expect(t.shape).toEqual([2, 2, 2]);
    // (0,0)->1, (0,1)->0, (1,0)->2, (1,1)->1
    expect([...t.data]).toEqual([1, 1.5, 0, 0.5, 2, 2.5, 1, 1.5]);
    expect(() => gatherRelPos(rel, 3, 3)).toThrow(RelPosInterpolationError);
  });

  it('foldConvBatchNorm equals conv followed by eval BatchNorm (eps 1e-5)', () => {
    const w: WeightMap = new Map([
      ['m.c.weight', f32([2, -1], [2, 1, 1, 1])],
      ['m.bn.weight', f32([3, 0.5], [2])],
      ['m.bn.bias', f32([1, -2], [2])],
      ['m.bn.running_mean', f32([0.5, 4], [2])],
      ['m.bn.running_var', f32([3, 0.25], [2])],
    ]);
    const { weight, bias } = foldConvBatchNorm(w, 'm.');
    const s0 = 3 / Math.sqrt(3 + 1e-5);
    const s1 = 0.5 / Math.sqrt(0.25 + 1e-5);
    expect(weight.data[0]).toBeCloseTo(2 * s0, 6);
    expect(weight.data[1]).toBeCloseTo(-1 * s1, 6);
    expect(bias.data[0]).toBeCloseTo(1 - 0.5 * s0, 6);
    expect(bias.data[1]).toBeCloseTo(-2 - 4 * s1, 6);
    expect(() => foldConvBatchNorm(new Map([['m.c.weight', f32([1], [1, 1, 1, 1])]]), 'm.')).toThrow(
      /missing weight 'm.bn.weight'/,
    );
  });

  it('MobileSAM PatchMerging keeps stride 1 for out dims 320/448/576', () => {
    expect([128, 160, 320, 448, 576].map(patchMergingStride)).toEqual([2, 2, 1, 1, 1]);
  });
});

describe('prepareImageEncoderWeights on the reference checkpoints', () => {
  it('tinyvit: folds all 27 Conv2d_BN and gathers all 10 attention biases', () => {
    const raw = loadCheckpoint('tinyvit');
    const w = prepareImageEncoderWeights(TINY_VIT_ENCODER, raw);
    const prefixes = tinyVitConvBnPrefixes(TINY_VIT_ENCODER);
    expect(prefixes).toHaveLength(27);
    expect(w.size - raw.size).toBe(27 * 2 + 10);
    expect(w.get(fusedConvKeys('image_encoder.patch_embed.seq.0.').weight)?.shape).toEqual([32, 3, 3, 3]);
    expect(w.get(attentionBiasKey('image_encoder.layers.1.blocks.0.attn.'))?.shape).toEqual([4, 49, 49]);
    expect(w.get(attentionBiasKey('image_encoder.layers.2.blocks.5.attn.'))?.shape).toEqual([5, 196, 196]);
    expect(w.get(attentionBiasKey('image_encoder.layers.3.blocks.1.attn.'))?.shape).toEqual([10, 49, 49]);
  });

  it('vit_mini: rel-pos tables [14,14,64] for windowed and [64,64,64] for global blocks', () => {
    const config = vitConfig(192, 4, 3, [1, 3]);
    const raw = loadCheckpoint('vit_mini');
    const w = prepareImageEncoderWeights(config, raw);
    expect(w.size - raw.size).toBe(8);
    for (const [i, size] of [
      [0, 14],
      [1, 64],
      [2, 14],
      [3, 64],
    ] as const) {
      for (const axis of ['h', 'w'] as const) {
        expect(w.get(relPosTableKey(`image_encoder.blocks.${i}.attn.`, axis))?.shape).toEqual([size, size, 64]);
      }
    }
    // a config whose window does not match the checkpoint's tables is refused, not interpolated
    expect(() => prepareImageEncoderWeights({ ...config, windowSize: 16 }, raw)).toThrow(RelPosInterpolationError);
  });
});

describe('window partition and encoder input checks (tfjs cpu)', () => {
  it('partitions with zero padding and unpartitions back exactly', async () => {
    await initBackend('cpu');
    const ops = new TfjsOps(new Map());
    const x = tf.tensor(
      Float32Array.from({ length: 5 * 5 * 2 }, (_, i) => i + 1),
      [1, 5, 5, 2],
    );
    const { windows, grid } = windowPartition(ops, x, 3);
    expect(windows.shape).toEqual([4, 3, 3, 2]);
    expect(grid).toMatchObject({ paddedHeight: 6, paddedWidth: 6 });
    const win = (await windows.array()) as number[][][][];
    expect(win[1]?.[0]?.[0]).toEqual([7, 8]); // window (0,1) starts at x[0,0,3]
    expect(win[3]?.[2]?.[2]).toEqual([0, 0]); // padding
    const back = windowUnpartition(ops, windows, grid);
    expect(back.shape).toEqual([1, 5, 5, 2]);
    expect(await back.data()).toEqual(await x.data());
  });

  it('rejects a wrong input shape and weights that were not prepared', async () => {
    await initBackend('cpu');
    const ops = new TfjsOps(new Map());
    expect(() => imageEncoder(ops, TINY_VIT_ENCODER, tf.zeros([1, 3, 512, 512]))).toThrow(ImageEncoderInputError);
    expect(() => imageEncoder(ops, TINY_VIT_ENCODER, tf.zeros([1, 3, 1024, 1024]))).toThrow(UnpreparedWeightsError);
  });
});
