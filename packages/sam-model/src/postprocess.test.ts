/**
 * Frame geometry against the official ResizeLongestSide numbers, and postprocessMasks alone on the
 * fixture's low-res logits -> the fixture's original-size logits (dog case 1, both models).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compareTensors } from './compare.js';
import { initBackend } from './ops/backend.js';
import { TfjsOps } from './ops/tfjs-ops.js';
import { FrameGeometryError, applyBoxes, applyCoords, postprocessMasks, preprocessShape } from './postprocess.js';
import { readManifest, readOutputs, refTensor } from './test-utils/decoder-cases.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('ResizeLongestSide geometry', () => {
  it('gives the manifest input sizes: int(side * 1024/max + 0.5)', () => {
    const m = readManifest();
    for (const stem of ['dog', 'truck']) {
      const img = m.images[stem];
      if (!img) throw new Error(`manifest.json: no image '${stem}'`);
      expect(preprocessShape(img.original_size)).toEqual(img.input_size);
    }
    expect(preprocessShape([534, 800])).toEqual([684, 1024]);
    expect(preprocessShape([1200, 1800])).toEqual([683, 1024]);
    expect(preprocessShape([1024, 1])).toEqual([1024, 1]);
  });

  it('scales X by new_w/W and Y by new_h/H (per axis, like apply_coords), float64 then float32', () => {
    // dog: 534x800 -> 684x1024: X * 1.28, Y * 684/534 = 1.2808988..., not 1.28.
    const c = applyCoords([400, 293.70001220703125, 160, 480.6000061035156], [534, 800]);
    expect(Array.from(c)).toEqual(
      [512, Math.fround(293.70001220703125 * (684 / 534)), 204.8, Math.fround(480.6000061035156 * (684 / 534))].map(
        Math.fround,
      ),
    );
    expect(c[3]).not.toBeCloseTo(Math.fround(480.6000061035156 * 1.28), 2);
    const b = applyBoxes([360, 300, 1260, 1080], [1200, 1800]);
    expect(Array.from(b)).toEqual(
      [360 * (1024 / 1800), 300 * (683 / 1200), 1260 * (1024 / 1800), 1080 * (683 / 1200)].map(Math.fround),
    );
    expect(() => applyCoords([1, 2, 3], [10, 10])).toThrow(FrameGeometryError);
    expect(() => applyBoxes([1, 2], [10, 10])).toThrow(/multiple of 4/);
    expect(() => preprocessShape([0, 10])).toThrow(/positive integer/);
  });
});

describe('postprocessMasks', () => {
  it.each(['tinyvit', 'vit_mini'])('turns %s dog case1 low_res_masks into the reference masks at 534x800', (model) => {
    const outputs = readOutputs(model);
    const low = refTensor(outputs, model, 'dog.case1.low_res_masks');
    const ref = refTensor(outputs, model, 'dog.case1.masks');
    const ops = new TfjsOps(new Map());
    const got = tf.tidy(() => {
      const out = postprocessMasks(ops, tf.tensor(low.data, [1, ...low.shape]), [684, 1024], [534, 800]);
      return { shape: out.shape.slice(1), data: out.dataSync() };
    });
    const a = compareTensors(got, ref);
    console.log(`postprocessMasks ${model} dog.case1.masks ratio ${a.ratio.toFixed(4)}`);
    expect(a.ok, JSON.stringify(a)).toBe(true);
    expect(() => postprocessMasks(ops, tf.zeros([1, 256, 256]), [684, 1024], [534, 800])).toThrow(
      /expected \[B,M,256,256\], got \[1,256,256\]/,
    );
    expect(() => postprocessMasks(ops, tf.zeros([1, 1, 256, 256]), [1100, 1024], [534, 800])).toThrow(
      FrameGeometryError,
    );
  });
});
