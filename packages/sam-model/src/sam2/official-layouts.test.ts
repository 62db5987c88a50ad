/**
 * The same code builds the published layouts: an official-size Hiera-T (synthetic seeded weights of
 * the official shapes) is recognised from its shapes and runs on onnxruntime with the published
 * output shapes; Hiera-S's graph records with them. (The published files are not downloaded in tests.)
 */
import { describe, expect, it } from 'vitest';
import { initWeightsFromShapes } from '../init.js';
import { expectedSam2EncoderShapes, shapesOf } from './checkpoint.js';
import { inferSam2Config, sam2Preset, type Sam2PresetName } from './config.js';
import { SAM2_ENCODER_OUTPUTS, Sam2EncoderSession, recordSam2EncoderGraph } from './onnx-encoder.js';

function officialWeights(name: Sam2PresetName) {
  const config = sam2Preset(name);
  return { config, weights: initWeightsFromShapes(expectedSam2EncoderShapes(config), 7) };
}

describe('official SAM 2.1 layouts', () => {
  it('Hiera-T: inferred back from its shapes and run on onnxruntime: [1,32,256,256], [1,64,128,128], [1,256,64,64]', async () => {
    const { config, weights } = officialWeights('sam2.1_hiera_tiny');
    expect(inferSam2Config(shapesOf(weights))).toEqual(config);
    const session = await Sam2EncoderSession.create(config.imageEncoder, weights);
    try {
      const image = Float32Array.from({ length: 3 * 1024 * 1024 }, (_, i) => Math.sin(i * 0.001));
      const f = await session.embed(image);
      expect([f.highResFeats[0].shape, f.highResFeats[1].shape, f.imageEmbed.shape]).toEqual([
        [1, 32, 256, 256],
        [1, 64, 128, 128],
        [1, 256, 64, 64],
      ]);
      expect(f.imageEmbed.data.every(Number.isFinite)).toBe(true);
    } finally {
      await session.release();
    }
  }, 120_000);

  it('Hiera-S: records the encoder graph with the published outputs', () => {
    const { config, weights } = officialWeights('sam2.1_hiera_small');
    const ops = recordSam2EncoderGraph(config.imageEncoder, weights);
    const outputs = SAM2_ENCODER_OUTPUTS.map((n) => [n, ops.builder.valueShape(n)]);
    expect(outputs).toEqual([
      ['high_res_feats_0', [1, 32, 256, 256]],
      ['high_res_feats_1', [1, 64, 128, 128]],
      ['image_embed', [1, 256, 64, 64]],
    ]);
  });
});
