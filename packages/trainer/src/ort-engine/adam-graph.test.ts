/** The flat Adam graph against the trainer's tfjs `Adam` (torch semantics): same values after 3 steps. */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { BoundOrtSession, boundTensor } from '@samtune/onnx';
import { Adam } from '../optimizer.js';
import { ADAM_IO, adamModelBytes } from './adam-graph.js';

function rand(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 30 - 1;
  });
}

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

      const s = new BoundOrtSession(adamModelBytes(n, hyper), { intraOpThreads: 1, label: 'adam' });
      const buf = (): [Float32Array, Float32Array] => [new Float32Array(n), new Float32Array(n)];
      const [p, m, v] = [buf(), buf(), buf()];
      p[0].set(p0);
      let cur = 0;
      for (const [i, g] of grads.entries()) {
        const t = i + 1;
        const nx = 1 - cur;
        s.run(
          {
            [ADAM_IO.p]: boundTensor(p[cur] as Float32Array, [n]),
            [ADAM_IO.m]: boundTensor(m[cur] as Float32Array, [n]),
            [ADAM_IO.v]: boundTensor(v[cur] as Float32Array, [n]),
            [ADAM_IO.g]: boundTensor(g, [n]),
            [ADAM_IO.stepSize]: boundTensor(Float32Array.of(lr / (1 - 0.9 ** t)), [1]),
            [ADAM_IO.bc2Sqrt]: boundTensor(Float32Array.of(Math.sqrt(1 - 0.999 ** t)), [1]),
          },
          {
            [ADAM_IO.pOut]: boundTensor(p[nx] as Float32Array, [n]),
            [ADAM_IO.mOut]: boundTensor(m[nx] as Float32Array, [n]),
            [ADAM_IO.vOut]: boundTensor(v[nx] as Float32Array, [n]),
          },
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
      s.dispose();
      adam.dispose();
      param.dispose();
    });
  }
});
