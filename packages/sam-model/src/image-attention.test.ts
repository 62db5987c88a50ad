/**
 * The re-associated cross-attentions (`image-attention.ts`) against the official `attention` on
 * random tensors (tfjs wasm): one image shared by a batch of prompts (`[1,HW,C]`), one image per
 * prompt (`[B,HW,C]`), and block 0's precomputed q projection of the image.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ParamScope } from './layers.js';
import { initBackend } from './ops/backend.js';
import { TfjsOps } from './ops/tfjs-ops.js';
import { imageToTokenAttention, tokenToImageAttention } from './image-attention.js';
import { attention } from './two-way-transformer.js';

beforeAll(async () => {
  await initBackend('wasm');
});

const [C, INNER, HEADS, T, HW] = [16, 8, 2, 3, 10];

function scopeWithRandomWeights(): ParamScope<tf.Tensor> {
  const weights = new Map<string, tf.Tensor>();
  for (const [name, o, i] of [
    ['q_proj', INNER, C],
    ['k_proj', INNER, C],
    ['v_proj', INNER, C],
    ['out_proj', C, INNER],
  ] as const) {
    weights.set(`a.${name}.weight`, tf.randomUniform([o, i], -0.5, 0.5, 'float32', 7 + o + i));
    weights.set(`a.${name}.bias`, tf.randomUniform([o], -0.5, 0.5, 'float32', 3 + o));
  }
  return new ParamScope(new TfjsOps(weights), 'a.');
}

function expectClose(got: tf.Tensor, want: tf.Tensor): void {
  expect(got.shape).toEqual(want.shape);
  const g = got.dataSync();
  const w = want.dataSync();
  let worst = 0;
  for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs((g[i] as number) - (w[i] as number)));
  expect(worst).toBeLessThan(1e-5);
}

describe('tokenToImageAttention', () => {
  for (const imageBatch of [1, 2]) {
    it(`equals attention(q = tokens, k/v = image) with a [${imageBatch},HW,C] image and 2 prompts`, () => {
      tf.tidy(() => {
        const p = scopeWithRandomWeights();
        const q = tf.randomNormal([2, T, C], 0, 1, 'float32', 1);
        const k = tf.randomNormal([imageBatch, HW, C], 0, 1, 'float32', 2);
        const v = tf.randomNormal([imageBatch, HW, C], 0, 1, 'float32', 3);
        expectClose(tokenToImageAttention(p, q, k, v, HEADS, INNER), attention(p, q, k, v, HEADS, INNER));
      });
    });
  }
});

describe('imageToTokenAttention', () => {
  for (const imageBatch of [1, 2]) {
    it(`equals attention(q = image, k/v = tokens) with a [${imageBatch},HW,C] image and 2 prompts`, () => {
      tf.tidy(() => {
        const p = scopeWithRandomWeights();
        const q = tf.randomNormal([imageBatch, HW, C], 0, 1, 'float32', 4);
        const k = tf.randomNormal([2, T, C], 0, 1, 'float32', 5);
        const v = tf.randomNormal([2, T, C], 0, 1, 'float32', 6);
        const want = attention(p, tf.broadcastTo(q, [2, HW, C]), k, v, HEADS, INNER);
        expectClose(imageToTokenAttention(p, q, k, v, HEADS, INNER), want);
      });
    });
  }

  it("takes block 0's precomputed q projection of a shared image (block-diagonal keys)", () => {
    tf.tidy(() => {
      const p = scopeWithRandomWeights();
      const image = tf.randomNormal([1, HW, C], 0, 1, 'float32', 7);
      const k = tf.randomNormal([2, T, C], 0, 1, 'float32', 8);
      const v = tf.randomNormal([2, T, C], 0, 1, 'float32', 9);
      const qProjected = p.ops.linear(image, p.child('q_proj').get('weight'), p.child('q_proj').get('bias'));
      const got = imageToTokenAttention(p, qProjected, k, v, HEADS, INNER, true);
      expectClose(got, attention(p, tf.broadcastTo(image, [2, HW, C]), k, v, HEADS, INNER));
    });
  });
});
