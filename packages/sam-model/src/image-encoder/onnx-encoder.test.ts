/**
 * Required acceptance path: the encoder recorded as ONNX from the reference checkpoints, run on
 * onnxruntime-node, against the official PyTorch embeddings of both images
 * (`max|ours-ref| <= 1e-4 + 1e-3*max|ref|`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_VIT_ENCODER } from '../config.js';
import { compareTensors } from '../compare.js';
import { decodeModel } from '@samtune/onnx';
import { buildImageEncoderOnnx, EmbedInputError, ImageEncoderSession } from './onnx-encoder.js';
import {
  ENCODER_FIXTURES,
  IMAGE_STEMS,
  loadCheckpoint,
  loadInput,
  readFixtureTensor,
} from './test-utils/fixture-io.js';

for (const fixture of ENCODER_FIXTURES) {
  describe(`image encoder on onnxruntime: ${fixture.name}`, () => {
    let session: ImageEncoderSession | undefined;
    beforeAll(async () => {
      session = await ImageEncoderSession.create(fixture.config, loadCheckpoint(fixture.name));
    });
    afterAll(async () => {
      await session?.release();
    });

    for (const stem of IMAGE_STEMS) {
      it(`${stem}.image_embeddings matches the official ${fixture.name} encoder`, async () => {
        const images = await loadInput(stem);
        const t0 = performance.now();
        const out = await session!.embed(images);
        const ms = performance.now() - t0;
        const ref = readFixtureTensor(`${fixture.name}_outputs.safetensors`, `${stem}.image_embeddings`);
        expect(ref.shape).toEqual([1, 256, 64, 64]);
        const agreement = compareTensors(out, ref);
        console.log(
          `${fixture.name} ${stem}: ratio ${agreement.ratio.toExponential(3)} maxAbsDiff ${agreement.maxAbsDiff.toExponential(3)} embed ${ms.toFixed(0)} ms`,
        );
        expect(agreement.ok, JSON.stringify(agreement)).toBe(true);
      });
    }

    it('refuses an input of the wrong size', async () => {
      await expect(session!.embed(new Float32Array(3 * 512 * 512))).rejects.toThrow(EmbedInputError);
    });
  });
}

describe('ImageEncoderSession via external data (the ViT-H path)', () => {
  it('loads through a temporary .onnx + .data pair and still matches the fixture', async () => {
    const fixture = ENCODER_FIXTURES[1]!;
    const session = await ImageEncoderSession.create(fixture.config, loadCheckpoint(fixture.name), {
      externalDataThresholdBytes: 0,
    });
    try {
      const out = await session.embed(await loadInput('dog'));
      const ref = readFixtureTensor(`${fixture.name}_outputs.safetensors`, 'dog.image_embeddings');
      expect(compareTensors(out, ref).ok).toBe(true);
    } finally {
      await session.release();
    }
  });
});

describe('buildImageEncoderOnnx', () => {
  it('declares images [1,3,1024,1024] -> image_embeddings [1,256,64,64] and reads only folded/gathered constants', () => {
    const model = decodeModel(buildImageEncoderOnnx(TINY_VIT_ENCODER, loadCheckpoint('tinyvit')));
    const { graph } = model;
    expect(graph.input.map((v) => [v.name, v.shape])).toEqual([['images', [1, 3, 1024, 1024]]]);
    expect(graph.output.map((v) => [v.name, v.shape])).toEqual([['image_embeddings', [1, 256, 64, 64]]]);
    const inits = graph.initializer.map((t) => t.name);
    expect(inits.filter((n) => n.endsWith('.fused.weight'))).toHaveLength(27);
    expect(inits.filter((n) => n.endsWith('.attn.ab'))).toHaveLength(10);
    expect(inits.some((n) => n.includes('.bn.') || n.endsWith('attention_biases') || n.includes('.head.'))).toBe(false);
    expect(graph.node.some((n) => n.opType === 'BatchNormalization' || n.opType === 'Gather')).toBe(false);
  });
});
