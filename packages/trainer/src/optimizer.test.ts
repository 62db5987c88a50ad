import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Adam, OptimizerError, type AdamState } from './optimizer.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const GRADS = [
  [0.5, -1.0, 0.0],
  [0.1, 0.2, 0.0],
  [-0.3, 0.4, 1e-3],
];

/** torch.optim.Adam, written out in float64 from its documented update. */
function torchAdam(p0: number[], grads: number[][], lr: number, wd = 0, b1 = 0.9, b2 = 0.999, eps = 1e-8): number[][] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const out: number[][] = [];
  grads.forEach((grad, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      const g = (grad[i] as number) + wd * (p[i] as number);
      m[i] = (m[i] as number) + (1 - b1) * (g - (m[i] as number));
      v[i] = b2 * (v[i] as number) + (1 - b2) * g * g;
      p[i] =
        (p[i] as number) -
        ((lr / (1 - b1 ** t)) * (m[i] as number)) / (Math.sqrt(v[i] as number) / Math.sqrt(1 - b2 ** t) + eps);
    }
    out.push([...p]);
  });
  return out;
}

function run(opt: Adam, w: tf.Variable, grads: number[][]): number[][] {
  return grads.map((g) => {
    const gt = tf.tensor1d(g);
    opt.step({ w: gt });
    gt.dispose();
    return Array.from(w.dataSync());
  });
}

describe('Adam (torch.optim.Adam semantics)', () => {
  it('matches hand-computed torch updates for three steps (lr 0.01)', () => {
    // Step 1 is p - lr * g / (|g| + eps): 1 - 0.01 * 0.5 / (0.5 + 1e-8) = 0.99000000002.
    const expected = [
      [0.9900000002, -1.9900000001, 0.25],
      [0.9819695906384652, -1.9848897393990494, 0.25],
      [0.9798624611763509, -1.9835473434208155, 0.24361197459454315],
    ];
    expect(torchAdam([1, -2, 0.25], GRADS, 0.01)).toEqual(expected.map((r) => r.map((x) => expect.closeTo(x, 12))));
    const w = tf.variable(tf.tensor1d([1, -2, 0.25]));
    const opt = new Adam({ w }, { lr: 0.01 });
    const got = run(opt, w, GRADS);
    got.forEach((row, k) => row.forEach((x, i) => expect(x).toBeCloseTo(expected[k]?.[i] as number, 6)));
    expect(opt.iterations).toBe(3);
    opt.dispose();
  });

  it('applies L2-style weight decay to the gradient (weightDecay 0.1)', () => {
    const expected = [
      [0.9900000001666667, -1.9900000000833333, 0.2400000039999984],
      [0.981296786265348, -1.9833056241906861, 0.2300127268673268],
      [0.9768336007031183, -1.9792623166380274, 0.22002859900722888],
    ];
    expect(torchAdam([1, -2, 0.25], GRADS, 0.01, 0.1)).toEqual(
      expected.map((r) => r.map((x) => expect.closeTo(x, 12))),
    );
    const w = tf.variable(tf.tensor1d([1, -2, 0.25]));
    const opt = new Adam({ w }, { lr: 0.01, weightDecay: 0.1 });
    run(opt, w, GRADS).forEach((row, k) => row.forEach((x, i) => expect(x).toBeCloseTo(expected[k]?.[i] as number, 6)));
    opt.dispose();
  });

  it('skips parameters without a gradient and keeps per-parameter step counts', () => {
    const a = tf.variable(tf.tensor1d([1, -2, 0.25]));
    const b = tf.variable(tf.tensor1d([1, -2, 0.25]));
    const opt = new Adam({ a, b }, { lr: 0.01 });
    opt.step({ a: tf.tensor1d(GRADS[0] as number[]) });
    expect(Array.from(b.dataSync())).toEqual([1, -2, 0.25]);
    opt.step({ a: tf.tensor1d(GRADS[1] as number[]), b: tf.tensor1d(GRADS[0] as number[]) });
    opt.step({ a: tf.tensor1d(GRADS[2] as number[]), b: tf.tensor1d(GRADS[1] as number[]) });
    // b saw two updates with bias corrections for t = 1, 2: torch's per-parameter state['step'].
    const wantB = torchAdam([1, -2, 0.25], GRADS.slice(0, 2), 0.01)[1] as number[];
    Array.from(b.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(wantB[i] as number, 6));
    expect(opt.state().steps).toEqual({ a: 3, b: 2 });
    expect(opt.state().step).toBe(3);
    opt.dispose();
  });

  it('resumes exactly from a serialised state (bit-identical to an uninterrupted run)', () => {
    const grads = [...GRADS, [0.7, -0.2, 0.05], [-0.1, 0.3, -0.4]];
    const w1 = tf.variable(tf.tensor1d([1, -2, 0.25]));
    const full = new Adam({ w: w1 }, { lr: 0.05 });
    const uninterrupted = run(full, w1, grads).at(-1);

    const w2 = tf.variable(tf.tensor1d([1, -2, 0.25]));
    const first = new Adam({ w: w2 }, { lr: 0.05 });
    run(first, w2, grads.slice(0, 3));
    // Round trip through JSON, as a checkpoint file would store it.
    const s = first.state();
    const json = JSON.stringify({ ...s, m: { w: Array.from(s.m.w ?? []) }, v: { w: Array.from(s.v.w ?? []) } });
    const parsed = JSON.parse(json) as {
      step: number;
      steps: Record<string, number>;
      m: { w: number[] };
      v: { w: number[] };
    };
    const restored: AdamState = {
      step: parsed.step,
      steps: parsed.steps,
      m: { w: Float32Array.from(parsed.m.w) },
      v: { w: Float32Array.from(parsed.v.w) },
    };
    const w3 = tf.variable(tf.tensor1d(Array.from(w2.dataSync())));
    const second = new Adam({ w: w3 }, { lr: 0.05 });
    second.load(restored);
    expect(second.iterations).toBe(3);
    const resumed = run(second, w3, grads.slice(3)).at(-1);
    expect(resumed).toEqual(uninterrupted);
    [full, first, second].forEach((o) => o.dispose());
  });

  it('leaves no tensors behind per step', () => {
    const w = tf.variable(tf.ones([4, 4]));
    const opt = new Adam({ w }, { weightDecay: 0.01 });
    const g = tf.ones([4, 4]);
    opt.step({ w: g });
    const before = tf.memory().numTensors;
    for (let k = 0; k < 3; k++) opt.step({ w: g });
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before - 2);
  });

  it('rejects unknown names, wrong shapes and states of other parameters', () => {
    const w = tf.variable(tf.zeros([2, 3]));
    const opt = new Adam({ w });
    expect(() => opt.step({ x: tf.zeros([2, 3]) })).toThrow(OptimizerError);
    expect(() => opt.step({ w: tf.zeros([3, 2]) })).toThrow(/gradient of 'w' has shape \[3,2\], the parameter \[2,3\]/);
    expect(opt.iterations).toBe(0);
    const bad: AdamState = { step: 1, steps: { w: 1 }, m: { w: new Float32Array(5) }, v: { w: new Float32Array(6) } };
    expect(() => opt.load(bad)).toThrow(/parameter 'w' \[2,3\] has 6 elements, state m 5 \/ v 6/);
    expect(() => opt.load({ step: 0, steps: {}, m: {}, v: {} })).toThrow(/no m\/v\/steps for parameter 'w'/);
    expect(() => new Adam({ w }, { betas: [1, 0.999] })).toThrow(/options\.betas\[0\]/);
    opt.dispose();
  });
});
