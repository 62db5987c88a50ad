/** The chunked Adam graph (`ChunkedAdam`) against the trainer's tfjs `Adam` (torch semantics): same values after 3 steps. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Adam } from '../optimizer.js';
import { ChunkedAdam, adamChunks } from './adam-graph.js';

function rand(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 30 - 1;
  });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('adamModelBytes', () => {
  for (const weightDecay of [0, 0.01]) {
    it(`matches the tfjs Adam over 3 steps (lr 1e-3, weight decay ${weightDecay})`, () => {
      const n = 1000;
      const p0 = rand(n, 1);
      const grads = [rand(n, 2), rand(n, 3), rand(n, 4)];
      const hyper = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay };
      const lr = 1e-3;

      const param = tf.variable(tf.tensor(p0));
      const adam = new Adam({ w: param }, { lr, betas: [0.9, 0.999], eps: 1e-8, weightDecay });
      for (const g of grads) tf.tidy(() => adam.step({ w: tf.tensor(g) }));
      const want = param.dataSync();
      const state = adam.state();

      // two chunks, the second shorter: every value must be updated exactly once
      expect(adamChunks(n, 600)).toEqual([
        [0, 600],
        [600, 400],
      ]);
      const runner = new ChunkedAdam(n, hyper, { intraOpThreads: 1 }, 600);
      const buf = (): [Float32Array, Float32Array] => [new Float32Array(n), new Float32Array(n)];
      const [p, m, v] = [buf(), buf(), buf()];
      p[0].set(p0);
      let cur = 0;
      for (const [i, g] of grads.entries()) {
        const nx = 1 - cur;
        const at = (pair: [Float32Array, Float32Array], k: number): Float32Array => pair[k] as Float32Array;
        runner.run(
          { p: at(p, cur), m: at(m, cur), v: at(v, cur), g, pOut: at(p, nx), mOut: at(m, nx), vOut: at(v, nx) },
          i + 1,
          lr,
        );
        cur = nx;
      }
      const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
        let d = 0;
        for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
        return d;
      };
      expect(maxDiff(p[cur] as Float32Array, want)).toBeLessThanOrEqual(1e-7);
      expect(maxDiff(m[cur] as Float32Array, state.m.w as Float32Array)).toBeLessThanOrEqual(1e-7);
      expect(maxDiff(v[cur] as Float32Array, state.v.w as Float32Array)).toBeLessThanOrEqual(1e-9);
      // the step moved every parameter
      expect(maxDiff(p[cur] as Float32Array, p0)).toBeGreaterThan(1e-3);
      runner.dispose();
      adam.dispose();
      param.dispose();
    });
  }
});

describe('ChunkedAdam', () => {
  it('names the expected length when a buffer has another', () => {
    const runner = new ChunkedAdam(10, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    const b = new Float32Array(10);
    const short = new Float32Array(9);
    expect(() => runner.run({ p: b, m: b, v: b, g: short, pOut: b, mOut: b, vOut: b }, 1, 1e-3)).toThrow(
      'ChunkedAdam.run(buffers): every buffer needs 10 values, got 9',
    );
    runner.dispose();
  });
});
