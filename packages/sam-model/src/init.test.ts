import { describe, expect, it } from 'vitest';
import { initWeightsFromShapes, mulberry32, tinyVitAttentionBiasIdxs } from './init.js';

describe('seeded init', () => {
  it('mulberry32 is deterministic and uniform-ish', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs.slice(0, 3)).toEqual([b(), b(), b()]);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });

  it('computes TinyViT attention_bias_idxs like the official code (res 2)', () => {
    const t = tinyVitAttentionBiasIdxs(2);
    expect(t.shape).toEqual([4, 4]);
    // points (0,0),(0,1),(1,0),(1,1); offsets seen in order (0,0)->0,(0,1)->1,(1,0)->2,(1,1)->3
    expect(Array.from(t.data, Number)).toEqual([0, 1, 2, 3, 1, 0, 3, 2, 2, 3, 0, 1, 3, 2, 1, 0]);
    expect(Math.max(...Array.from(tinyVitAttentionBiasIdxs(7).data, Number))).toBe(48);
  });

  it('initialises by key kind with fixed seeds', () => {
    const shapes = new Map<string, number[]>([
      ['mask_decoder.transformer.layers.0.norm1.weight', [4]],
      ['mask_decoder.transformer.layers.0.norm1.bias', [4]],
      ['mask_decoder.iou_token.weight', [1, 4]],
      ['mask_decoder.iou_prediction_head.layers.0.weight', [4, 16]],
      ['image_encoder.layers.0.blocks.0.conv1.bn.running_var', [3]],
      ['image_encoder.layers.0.blocks.0.conv1.bn.num_batches_tracked', []],
    ]);
    const w = initWeightsFromShapes(shapes, 1);
    expect(w.get('mask_decoder.transformer.layers.0.norm1.weight')!.data).toEqual(new Float32Array([1, 1, 1, 1]));
    expect(w.get('mask_decoder.transformer.layers.0.norm1.bias')!.data).toEqual(new Float32Array([0, 0, 0, 0]));
    expect(w.get('image_encoder.layers.0.blocks.0.conv1.bn.running_var')!.data).toEqual(new Float32Array([1, 1, 1]));
    expect(w.get('image_encoder.layers.0.blocks.0.conv1.bn.num_batches_tracked')!.dtype).toBe('int64');
    const lin = w.get('mask_decoder.iou_prediction_head.layers.0.weight')!.data as Float32Array;
    expect(Math.max(...lin.map(Math.abs))).toBeLessThanOrEqual(0.25);
    expect(initWeightsFromShapes(shapes, 1).get('mask_decoder.iou_token.weight')!.data).toEqual(
      w.get('mask_decoder.iou_token.weight')!.data,
    );
  });
});
