import { describe, expect, it } from 'vitest';
import { SAM_PRESETS, TINY_VIT_ENCODER, type SamConfig } from '../config.js';
import { referencePath } from '../test-utils/fixtures.js';
import type { WeightMap } from '@samtune/tensor';
import { expectedShapes } from './expected-shapes.js';
import { ConfigInferenceError, inferSamConfig, sameArchitecture } from './infer-config.js';
import { readTorchCheckpoint } from '@samtune/tensor-files';

/** Shape-only weights (inference reads shapes, never data): a state dict of `config` without its bytes. */
function shapesOnly(config: SamConfig, drop: (k: string) => boolean = () => false): WeightMap {
  const w: WeightMap = new Map();
  for (const [k, shape] of expectedShapes(config))
    if (!drop(k)) w.set(k, { dtype: 'float32', shape, data: new Float32Array(0) });
  return w;
}

describe('inferSamConfig', () => {
  it('infers MobileSAM from tinyvit.pth and names it tiny_vit', () => {
    const c = inferSamConfig(readTorchCheckpoint(referencePath('tinyvit.pth')));
    expect(c.name).toBe('tiny_vit');
    expect(c).toEqual(SAM_PRESETS.tiny_vit);
  });

  it('infers the reduced ViT of vit_mini.pth from shapes (embed 192, depth 4, 3 heads, global [1,3], window 14) as custom', () => {
    const c = inferSamConfig(readTorchCheckpoint(referencePath('vit_mini.pth')));
    expect(c.name).toBe('custom');
    expect(c.imageEncoder).toEqual({
      kind: 'vit',
      imgSize: 1024,
      patchSize: 16,
      inChans: 3,
      embedDim: 192,
      depth: 4,
      numHeads: 3,
      mlpRatio: 4,
      globalAttnIndexes: [1, 3],
      windowSize: 14,
      qkvBias: true,
      useRelPos: true,
      outChans: 256,
    });
    expect(c.promptEncoder).toEqual(SAM_PRESETS.vit_b.promptEncoder);
    expect(c.maskDecoder).toEqual(SAM_PRESETS.vit_b.maskDecoder);
  });

  for (const [name, preset] of Object.entries(SAM_PRESETS)) {
    it(`recovers preset ${name} from the shapes of its state dict (without optional buffers)`, () => {
      const c = inferSamConfig(shapesOnly(preset, (k) => k.endsWith('attention_bias_idxs')));
      expect(c.name).toBe(name);
      expect(sameArchitecture(c, preset)).toBe(true);
    });
  }

  it('infers a non-preset TinyViT (wider stage 3, window 5) as custom', () => {
    const tv = TINY_VIT_ENCODER;
    const custom: SamConfig = {
      ...SAM_PRESETS.tiny_vit,
      name: 'custom',
      imageEncoder: { ...tv, embedDims: [64, 128, 192, 320], numHeads: [2, 4, 6, 10], windowSizes: [7, 7, 5, 7] },
    };
    const c = inferSamConfig(shapesOnly(custom));
    expect(c.name).toBe('custom');
    expect(c).toEqual(custom);
  });

  it('throws ConfigInferenceError naming what is missing', () => {
    expect(() => inferSamConfig(new Map())).toThrow(ConfigInferenceError);
    const noNeck = shapesOnly(SAM_PRESETS.vit_b, (k) => k.startsWith('image_encoder.neck.0'));
    expect(() => inferSamConfig(noNeck)).toThrow(/'image_encoder.neck.0.weight' is missing/);
  });
});
