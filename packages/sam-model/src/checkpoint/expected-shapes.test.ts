import { describe, expect, it } from 'vitest';
import { SAM_PRESETS } from '../config.js';
import { referencePath } from '../test-utils/fixtures.js';
import type { WeightMap } from '@samtune/tensor';
import { CheckpointKeysError, expectedShapes, isOptionalKey, validateWeights } from './expected-shapes.js';
import { inferSamConfig } from './infer-config.js';
import { readTorchCheckpoint } from '@samtune/tensor-files';

const tiny = readTorchCheckpoint(referencePath('tinyvit.pth'));
const mini = readTorchCheckpoint(referencePath('vit_mini.pth'));

function caught(fn: () => void): CheckpointKeysError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointKeysError);
    return e as CheckpointKeysError;
  }
  throw new Error('expected a CheckpointKeysError');
}

describe('expectedShapes / validateWeights', () => {
  it('tinyvit.pth matches the TinyViT key set exactly (435 required + 10 optional bias idxs; 4 head keys ignored)', () => {
    const exp = expectedShapes(SAM_PRESETS.tiny_vit);
    expect(exp.size).toBe(445);
    expect([...exp.keys()].filter(isOptionalKey).length).toBe(10);
    expect(exp.get('image_encoder.layers.1.blocks.0.attn.attention_bias_idxs')).toEqual([49, 49]);
    expect(exp.get('image_encoder.layers.2.blocks.0.attn.attention_bias_idxs')).toEqual([196, 196]);
    expect(exp.get('image_encoder.layers.0.blocks.0.conv2.c.weight')).toEqual([256, 1, 3, 3]);
    expect(exp.get('mask_decoder.output_upscaling.0.weight')).toEqual([256, 64, 2, 2]);
    for (const [k, shape] of exp) if (!isOptionalKey(k)) expect(tiny.get(k)?.shape, k).toEqual(shape);
    expect(() => validateWeights(tiny, SAM_PRESETS.tiny_vit, 'tinyvit.pth')).not.toThrow();
  });

  it('vit_mini.pth matches the inferred ViT key set exactly (202 keys)', () => {
    const config = inferSamConfig(mini);
    const exp = expectedShapes(config);
    expect(exp.size).toBe(202);
    expect([...exp.keys()]).toEqual([...mini.keys()]);
    expect(() => validateWeights(mini, config, 'vit_mini.pth')).not.toThrow();
  });

  it('reports a removed key, an extra key and a wrong shape in ONE error', () => {
    const w: WeightMap = new Map(tiny);
    w.delete('mask_decoder.iou_token.weight');
    w.set('mask_decoder.extra.weight', { dtype: 'float32', shape: [2], data: new Float32Array(2) });
    w.set('prompt_encoder.no_mask_embed.weight', { dtype: 'float32', shape: [1, 255], data: new Float32Array(255) });
    const err = caught(() => validateWeights(w, SAM_PRESETS.tiny_vit, 'copy.pth'));
    expect(err.name).toBe('CheckpointKeysError');
    expect(err.missing).toEqual(['mask_decoder.iou_token.weight']);
    expect(err.unexpected).toEqual(['mask_decoder.extra.weight']);
    expect(err.misshaped).toEqual([
      { key: 'prompt_encoder.no_mask_embed.weight', expected: [1, 256], actual: [1, 255] },
    ]);
    expect(err.message).toContain('copy.pth');
    expect(err.message).toContain('1 missing, 1 unexpected, 1 mis-shaped');
    expect(err.message).toContain('missing: mask_decoder.iou_token.weight (expected [1,256])');
    expect(err.message).toContain('unexpected: mask_decoder.extra.weight [2]');
    expect(err.message).toContain('wrong shape: prompt_encoder.no_mask_embed.weight expected [1,256], actual [1,255]');
  });

  it('accepts attention_bias_idxs when present with the right shape and reports a wrong one', () => {
    const w: WeightMap = new Map(tiny);
    w.set('image_encoder.layers.1.blocks.0.attn.attention_bias_idxs', {
      dtype: 'int64',
      shape: [49, 49],
      data: new BigInt64Array(49 * 49),
    });
    expect(() => validateWeights(w, SAM_PRESETS.tiny_vit)).not.toThrow();
    w.set('image_encoder.layers.3.blocks.1.attn.attention_bias_idxs', {
      dtype: 'int64',
      shape: [196, 196],
      data: new BigInt64Array(196 * 196),
    });
    const err = caught(() => validateWeights(w, SAM_PRESETS.tiny_vit));
    expect(err.misshaped).toEqual([
      { key: 'image_encoder.layers.3.blocks.1.attn.attention_bias_idxs', expected: [49, 49], actual: [196, 196] },
    ]);
  });

  it('vit_mini weights against the vit_b preset: every difference in one error', () => {
    const err = caught(() => validateWeights(mini, SAM_PRESETS.vit_b, 'vit_mini.pth'));
    expect(err.missing.length).toBe(8 * 14); // blocks 4..11, 14 tensors each
    expect(err.unexpected).toEqual([]);
    expect(err.misshaped).toContainEqual({
      key: 'image_encoder.pos_embed',
      expected: [1, 64, 64, 768],
      actual: [1, 64, 64, 192],
    });
    expect(err.misshaped).toContainEqual({
      key: 'image_encoder.blocks.1.attn.rel_pos_h',
      expected: [27, 64],
      actual: [127, 64],
    });
  });
});
