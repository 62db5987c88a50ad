import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Ops, HostTensor } from '@samtune/tensor';
import type { OpsProgram } from './test-utils/parity.js';
import { parity, randn } from './test-utils/parity.js';
import { OnnxGraphOps, OnnxShapeError } from '@samtune/onnx';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const C = 16;
const HEADS = 2;

/** A small decoder-like block: tokens `[B,N,C]` (+2 learned tokens), attention, GELU MLP. */
function block<T>(ops: Ops<T>, tokensIn: T, labels: T): T {
  const [b] = ops.shape(tokensIn);
  // learned tokens, broadcast to the batch through an add with zeros shaped like the batch
  const extra = ops.param('extra_tokens'); // [1,2,C]
  const zeros = ops.scale(ops.slice(tokensIn, 1, 0, 1), 0); // [B,1,C]
  let x = ops.concat([ops.add(extra, zeros), tokensIn], 1); // [B,N+2,C]
  const [, n] = ops.shape(x);
  // label-dependent embedding, like SAM's point labels
  const none = ops.scale(ops.slice(labels, 1, 0, 1), 0); // [B,1]
  const lab = ops.concat([none, none, ops.equalScalar(labels, 1)], 1); // [B,N+2]
  x = ops.add(x, ops.mul(ops.reshape(lab, [b as number, n as number, 1]), ops.param('label_embed')));
  const h = ops.layerNorm(x, ops.param('norm.weight'), ops.param('norm.bias'), 1e-5);
  const heads = (t: T): T => ops.transpose(ops.reshape(t, [b as number, n as number, HEADS, C / HEADS]), [0, 2, 1, 3]);
  const q = heads(ops.linear(h, ops.param('q.weight'), ops.param('q.bias')));
  const k = heads(ops.linear(h, ops.param('k.weight'), ops.param('k.bias')));
  const v = heads(ops.linear(h, ops.param('v.weight'), ops.param('v.bias')));
  const attn = ops.softmax(ops.scale(ops.matmul(q, k, true), 1 / Math.sqrt(C / HEADS)));
  const o = ops.reshape(ops.transpose(ops.matmul(attn, v), [0, 2, 1, 3]), [b as number, n as number, C]);
  x = ops.add(x, ops.linear(o, ops.param('proj.weight')));
  const m = ops.linear(
    ops.gelu(ops.linear(x, ops.param('fc1.weight'), ops.param('fc1.bias'))),
    ops.param('fc2.weight'),
  );
  return ops.sigmoid(ops.add(x, m));
}

const weights = new Map<string, HostTensor>([
  ['extra_tokens', randn([1, 2, C], 100)],
  ['label_embed', randn([C], 101)],
  ['norm.weight', randn([C], 102, 0.5)],
  ['norm.bias', randn([C], 103, 0.5)],
  ...['q', 'k', 'v'].flatMap((p, i): [string, HostTensor][] => [
    [`${p}.weight`, randn([C, C], 110 + i, 0.3)],
    [`${p}.bias`, randn([C], 120 + i, 0.1)],
  ]),
  ['proj.weight', randn([C, C], 130, 0.3)],
  ['fc1.weight', randn([2 * C, C], 131, 0.3)],
  ['fc1.bias', randn([2 * C], 132, 0.1)],
  ['fc2.weight', randn([C, 2 * C], 133, 0.3)],
]);

const program: OpsProgram = (ops, [t, l]) => block(ops, t!, l!);

function labelsOf(b: number, n: number, seed: number): HostTensor<'float32'> {
  const r = randn([b, n], seed);
  return { dtype: 'float32', shape: [b, n], data: r.data.map((v) => (v > 0 ? 1 : 0)) };
}

describe('OnnxGraphOps with dynamic dims', () => {
  it('runs one model at two numbers of points N (dims [1,"N",C])', async () => {
    const runs = [3, 7].map((n) => [
      { tensor: randn([1, n, C], n), dims: [1, 'N', C] },
      { tensor: labelsOf(1, n, 50 + n), dims: [1, 'N'] },
    ]);
    const results = await parity(program, runs, weights);
    expect(results.map((r) => r.onnx.shape)).toEqual([
      [1, 5, C],
      [1, 9, C],
    ]);
    console.log(`dynamic N parity ratios: ${results.map((r) => r.agreement.ratio.toExponential(2)).join(', ')}`);
    for (const r of results) {
      expect(r.staticShape).toEqual([1, -1, C]);
      expect(r.agreement.ok).toBe(true);
      expect(r.agreement.ratio).toBeLessThan(0.05);
    }
  });

  it('keeps dynamic batch and N through reshape (two -1 dims become Reshape 0 copies)', async () => {
    const runs = [
      [2, 4],
      [3, 1],
    ].map(([b, n]) => [
      { tensor: randn([b!, n!, C], 7 * b! + n!), dims: ['B', 'N', C] },
      { tensor: labelsOf(b!, n!, 60 + n!), dims: ['B', 'N'] },
    ]);
    const results = await parity(program, runs, weights);
    expect(results.map((r) => r.onnx.shape)).toEqual([
      [2, 6, C],
      [3, 3, C],
    ]);
    console.log(`dynamic B,N parity ratios: ${results.map((r) => r.agreement.ratio.toExponential(2)).join(', ')}`);
    for (const r of results) {
      expect(r.staticShape).toEqual([-1, -1, C]);
      expect(r.agreement.ratio).toBeLessThan(0.05);
    }
  });

  it('resizes with a dynamic batch (sizes built from Shape)', async () => {
    const runs = [1, 2].map((b) => [{ tensor: randn([b, 2, 5, 6], 70 + b), dims: ['B', 2, 5, 6] }]);
    const results = await parity((o, [a]) => o.resizeBilinear(a!, [9, 4]), runs);
    expect(results.map((r) => r.onnx.shape)).toEqual([
      [1, 2, 9, 4],
      [2, 2, 9, 4],
    ]);
    for (const r of results) expect(r.agreement.ok).toBe(true);
  });

  it('names shape errors with both shapes', () => {
    const ops = new OnnxGraphOps(new Map());
    const a = ops.input('a', [2, 3]);
    const b = ops.input('b', [4, 5]);
    expect(() => ops.add(a, b)).toThrow(OnnxShapeError);
    expect(() => ops.add(a, b)).toThrow(/shapes \[2,3\] and \[4,5\] do not broadcast/);
    expect(() => ops.matmul(a, b)).toThrow(/a \[2,3\] has K=3, b \[4,5\] has K=4/);
    const d = ops.input('d', ['B', 'N', 4]);
    expect(() => ops.reshape(d, [2, -1, -1])).toThrow(/at most one is allowed/);
    expect(ops.reshape(d, [-1, 2, -1]).shape).toEqual([-1, 2, -1]);
    expect(() => ops.reshape(a, [4, -1])).toThrow(/cannot be reshaped/);
    expect(() => ops.param('nope')).toThrow(/no weight 'nope'/);
    expect(ops.hasParam('nope')).toBe(false);
  });

  it('prefixes node names inside scoped() and reuses initializers and constants', () => {
    const ops = new OnnxGraphOps(new Map([['w', randn([3], 1)]]));
    const a = ops.input('a', [2, 3]);
    const y = ops.scoped('block0', () => ops.scoped('mlp', () => ops.relu(ops.scale(ops.mul(a, ops.param('w')), 2))));
    ops.output('y', ops.add(ops.scale(y, 2), ops.param('w')));
    expect(ops.hasParam('w')).toBe(true);
    const g = ops.builder.toModelProto().graph;
    expect(g.node.map((n) => n.name)).toEqual([
      'block0/mlp/Mul',
      'block0/mlp/Mul_1',
      'block0/mlp/Relu',
      'Mul',
      'Add',
      'y_identity',
    ]);
    expect(g.initializer.map((t) => t.name)).toEqual(['w', 'scalar']);
  });
});
