/**
 * Every gradient rule against central finite differences on onnxruntime-node (float32, step 1e-2,
 * loss `sum(w * y)` accumulated in float64), with shapes that exercise broadcasting and batching.
 */
import type { OnnxOpType } from '../op-types.js';
import { afterAll, describe, expect, it } from 'vitest';
import type { OnnxGraphOps, OnnxValue } from '../onnx-ops.js';
import { gradCheck, type GradCase } from './test-utils/grad-check.js';

const i64 = (ops: OnnxGraphOps, v: number[]): string => ops.int64Const(v);
const unary = (op: OnnxOpType, kind?: 'positive' | 'awayFromZero'): GradCase => ({
  name: op,
  inputs: { x: { shape: [2, 3, 4], ...(kind ? { kind } : {}) } },
  build: (ops, v) => ops.emit(op, [v.x as OnnxValue], [2, 3, 4]),
});

const CASES: GradCase[] = [
  // element-wise binary ops with numpy broadcasting (both sides broadcast)
  ...(['Add', 'Sub', 'Mul'] as const).map((op): GradCase => ({
    name: `${op} broadcast [2,1,4] x [3,1]`,
    inputs: { a: { shape: [2, 1, 4] }, b: { shape: [3, 1] } },
    build: (ops, v) => ops.emit(op, [v.a as OnnxValue, v.b as OnnxValue], [2, 3, 4]),
  })),
  {
    name: 'Div broadcast [2,3,4] / [4]',
    inputs: { a: { shape: [2, 3, 4] }, b: { shape: [4], kind: 'positive' } },
    build: (ops, v) => ops.div(v.a as OnnxValue, v.b as OnnxValue),
  },
  {
    name: 'Div by a scalar initializer (b not differentiated)',
    inputs: { a: { shape: [3, 4] } },
    build: (ops, v) => ops.scale(v.a as OnnxValue, 0.25),
  },
  {
    name: 'Pow constant exponent 3',
    inputs: { x: { shape: [2, 5], kind: 'positive' } },
    build: (ops, v) => ops.emit('Pow', [v.x as OnnxValue, ops.constant(new Float32Array([3]), [], 'p')], [2, 5]),
  },
  {
    name: 'Pow constant exponent 2 and -0.5',
    inputs: { x: { shape: [2, 5], kind: 'positive' } },
    build: (ops, v) =>
      ops.add(
        ops.emit('Pow', [v.x as OnnxValue, ops.constant(new Float32Array([2]), [], 'p2')], [2, 5]),
        ops.emit('Pow', [v.x as OnnxValue, ops.constant(new Float32Array([-0.5]), [1], 'ph')], [2, 5]),
      ),
  },
  {
    name: 'Pow computed exponent',
    inputs: { x: { shape: [2, 3], kind: 'positive' }, p: { shape: [3] } },
    build: (ops, v) => ops.emit('Pow', [v.x as OnnxValue, v.p as OnnxValue], [2, 3]),
  },
  {
    name: 'Sum of three with broadcasting',
    inputs: { a: { shape: [2, 3] }, b: { shape: [3] }, c: { shape: [2, 1] } },
    build: (ops, v) => ops.emit('Sum', [v.a as OnnxValue, v.b as OnnxValue, v.c as OnnxValue], [2, 3]),
  },
  // MatMul: plain, batched, broadcast batch, rank-2 weight under a batched input
  {
    name: 'MatMul [3,4] x [4,5]',
    inputs: { a: { shape: [3, 4] }, b: { shape: [4, 5] } },
    build: (ops, v) => ops.matmul(v.a as OnnxValue, v.b as OnnxValue),
  },
  {
    name: 'MatMul batched broadcast [2,1,3,4] x [3,4,2]',
    inputs: { a: { shape: [2, 1, 3, 4] }, b: { shape: [3, 4, 2] } },
    build: (ops, v) => ops.matmul(v.a as OnnxValue, v.b as OnnxValue),
  },
  {
    name: 'MatMul transposeB (attention logits) [2,2,3,4] x [2,2,5,4]^T',
    inputs: { q: { shape: [2, 2, 3, 4] }, k: { shape: [1, 2, 5, 4] } },
    build: (ops, v) => ops.matmul(v.q as OnnxValue, v.k as OnnxValue, true),
  },
  {
    name: 'linear: MatMul with a weight initializer (Transpose node) + bias',
    inputs: { x: { shape: [2, 3, 4] } },
    params: { w: { shape: [5, 4] }, b: { shape: [5] } },
    build: (ops, v) => ops.linear(v.x as OnnxValue, v.w as OnnxValue, v.b as OnnxValue),
  },
  ...[
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ].map(([ta, tb]): GradCase => ({
    name: `Gemm transA=${ta} transB=${tb} alpha 0.7 beta 1.3, C [4]`,
    inputs: { a: { shape: ta ? [3, 2] : [2, 3] }, b: { shape: tb ? [4, 3] : [3, 4] }, c: { shape: [4] } },
    build: (ops, v) =>
      ops.emit('Gemm', [v.a as OnnxValue, v.b as OnnxValue, v.c as OnnxValue], [2, 4], {
        transA: ta as number,
        transB: tb as number,
        alpha: { f: 0.7 },
        beta: { f: 1.3 },
      }),
  })),
  // normalisations and activations
  {
    name: 'Softmax last axis',
    inputs: { x: { shape: [2, 3, 5] } },
    build: (ops, v) => ops.softmax(v.x as OnnxValue),
  },
  {
    name: 'Softmax axis 1',
    inputs: { x: { shape: [2, 4, 3] } },
    build: (ops, v) => ops.emit('Softmax', [v.x as OnnxValue], [2, 4, 3], { axis: 1 }),
  },
  {
    name: 'LogSoftmax last axis',
    inputs: { x: { shape: [3, 5] } },
    build: (ops, v) => ops.emit('LogSoftmax', [v.x as OnnxValue], [3, 5], { axis: -1 }),
  },
  {
    name: 'LayerNormalization last axis, weights',
    inputs: { x: { shape: [2, 3, 6] } },
    params: { g: { shape: [6] }, b: { shape: [6] } },
    build: (ops, v) => ops.layerNorm(v.x as OnnxValue, v.g as OnnxValue, v.b as OnnxValue, 1e-5),
  },
  {
    name: 'LayerNormalization over the last two axes (axis 1)',
    inputs: { x: { shape: [2, 3, 4] }, g: { shape: [3, 4] } },
    build: (ops, v) =>
      ops.emit('LayerNormalization', [v.x as OnnxValue, v.g as OnnxValue], [2, 3, 4], {
        axis: 1,
        epsilon: { f: 1e-5 },
      }),
  },
  {
    name: 'GELU (Div, Erf, Add, Mul)',
    inputs: { x: { shape: [2, 3, 4] } },
    build: (ops, v) => ops.gelu(ops.scale(v.x as OnnxValue, 2)),
  },
  {
    name: 'Gelu (com.microsoft, fused)',
    inputs: { x: { shape: [2, 3, 4] } },
    build: (ops, v) => ops.emit('Gelu', [ops.scale(v.x as OnnxValue, 2)], [2, 3, 4], {}, 'com.microsoft'),
  },
  ...[16, -16].map((at): GradCase => ({
    // |x| in [14, 18]: exp(u^2) overflows to inf past |x| ~13 and the rule must give the limit (1 or 0)
    name: `Gelu (com.microsoft, fused), x around ${at}`,
    inputs: { x: { shape: [2, 3, 4] } },
    build: (ops, v) =>
      ops.emit('Gelu', [ops.addScalar(ops.scale(v.x as OnnxValue, 2), at)], [2, 3, 4], {}, 'com.microsoft'),
  })),
  unary('Erf'),
  unary('Relu', 'awayFromZero'),
  unary('Sigmoid'),
  unary('Tanh'),
  unary('Softplus'),
  unary('Sqrt', 'positive'),
  unary('Reciprocal', 'positive'),
  unary('Neg'),
  unary('Exp'),
  unary('Log', 'positive'),
  unary('Abs', 'awayFromZero'),
  unary('Sin'),
  unary('Cos'),
  unary('Identity'),
  {
    name: 'Clip [-0.5, 0.5]',
    inputs: { x: { shape: [4, 5], data: Float32Array.from({ length: 20 }, (_, i) => -0.95 + 0.1 * i) } },
    build: (ops, v) =>
      ops.emit(
        'Clip',
        [
          v.x as OnnxValue,
          ops.constant(new Float32Array([-0.5]), [], 'lo'),
          ops.constant(new Float32Array([0.5]), [], 'hi'),
        ],
        [4, 5],
      ),
  },
  ...(['Max', 'Min'] as const).map((op): GradCase => ({
    name: `${op} broadcast [2,3] x [3]`,
    inputs: { a: { shape: [2, 3], data: Float32Array.from([0.1, -0.9, 0.5, 0.8, 0.2, -0.3]) }, b: { shape: [3] } },
    build: (ops, v) => ops.emit(op, [v.a as OnnxValue, v.b as OnnxValue], [2, 3]),
  })),
  {
    name: 'Where (condition from Greater) with broadcast branches',
    inputs: { c: { shape: [2, 3] }, a: { shape: [2, 3] }, b: { shape: [3] } },
    wrt: ['a', 'b'],
    build: (ops, v) => {
      const cond = ops.emit('Greater', [v.c as OnnxValue, ops.constant(new Float32Array([0]), [], 'z')], [2, 3]);
      return ops.emit('Where', [cond, v.a as OnnxValue, v.b as OnnxValue], [2, 3]);
    },
  },
  {
    name: 'Cast to float of Equal (zero gradient) times x',
    inputs: { x: { shape: [2, 4], kind: 'awayFromZero' } },
    build: (ops, v) => ops.mul(ops.equalScalar(ops.relu(v.x as OnnxValue), 0), v.x as OnnxValue),
  },
  // layout ops
  {
    name: 'Reshape [2,3,4] -> [6,4]',
    inputs: { x: { shape: [2, 3, 4] } },
    build: (ops, v) =>
      ops.mul(
        ops.reshape(v.x as OnnxValue, [6, 4]),
        ops.constant(
          Float32Array.from({ length: 24 }, (_, i) => i / 7),
          [6, 4],
        ),
      ),
  },
  {
    name: 'Unsqueeze + Squeeze',
    inputs: { x: { shape: [3, 4] } },
    build: (ops, v) => {
      const u = ops.emit('Unsqueeze', [v.x as OnnxValue, i64(ops, [0, 2])], [1, 3, 1, 4]);
      return ops.emit('Squeeze', [ops.sigmoid(u), i64(ops, [2])], [1, 3, 4]);
    },
  },
  {
    name: 'Transpose [0,2,3,1]',
    inputs: { x: { shape: [2, 3, 2, 4] } },
    build: (ops, v) => ops.transpose(v.x as OnnxValue, [0, 2, 3, 1]),
  },
  {
    name: 'Transpose default perm',
    inputs: { x: { shape: [2, 3, 4] } },
    build: (ops, v) => ops.emit('Transpose', [v.x as OnnxValue], [4, 3, 2]),
  },
  {
    name: 'Concat axis 1 of three (one reused)',
    inputs: { a: { shape: [2, 1, 3] }, b: { shape: [2, 4, 3] } },
    build: (ops, v) => ops.concat([v.a as OnnxValue, v.b as OnnxValue, v.a as OnnxValue], 1),
  },
  {
    name: 'Concat axis -1',
    inputs: { a: { shape: [2, 3] }, b: { shape: [2, 2] } },
    build: (ops, v) => ops.concat([v.a as OnnxValue, v.b as OnnxValue], -1),
  },
  {
    name: 'Slice axis 1 [1:3] and negative bounds',
    inputs: { x: { shape: [2, 5, 3] } },
    build: (ops, v) => ops.add(ops.slice(v.x as OnnxValue, 1, 1, 3), ops.slice(v.x as OnnxValue, 1, -2, 100)),
  },
  {
    name: 'Slice two axes',
    inputs: { x: { shape: [4, 5] } },
    build: (ops, v) =>
      ops.emit('Slice', [v.x as OnnxValue, i64(ops, [1, 0]), i64(ops, [3, 4]), i64(ops, [0, 1])], [2, 4]),
  },
  {
    name: 'Pad constant',
    inputs: { x: { shape: [2, 3] } },
    build: (ops, v) =>
      ops.pad(v.x as OnnxValue, [
        [1, 0],
        [2, 1],
      ]),
  },
  {
    name: 'Gather axis 1, repeated and negative indices',
    inputs: { x: { shape: [2, 4, 3] } },
    build: (ops, v) => ops.emit('Gather', [v.x as OnnxValue, i64(ops, [3, 0, -1])], [2, 3, 3], { axis: 1 }),
  },
  {
    name: 'Gather axis 0, 2-D indices',
    inputs: { x: { shape: [5, 3] } },
    build: (ops, v) => {
      const idx = ops.builder.addInt64Constant([1, 4, 1, 0], 'idx', [2, 2]);
      return ops.emit('Gather', [v.x as OnnxValue, idx], [2, 2, 3], { axis: 0 });
    },
  },
  {
    name: 'Expand [3,1] -> [2,3,4]',
    inputs: { x: { shape: [3, 1] } },
    build: (ops, v) => ops.emit('Expand', [v.x as OnnxValue, i64(ops, [2, 3, 4])], [2, 3, 4]),
  },
  {
    name: 'Tile [2,3] x [2,1]',
    inputs: { x: { shape: [2, 3] } },
    build: (ops, v) => ops.emit('Tile', [v.x as OnnxValue, i64(ops, [2, 1])], [4, 3]),
  },
  // reductions
  {
    name: 'ReduceSum axes [0,2] keepdims 0',
    inputs: { x: { shape: [2, 3, 4] } },
    build: (ops, v) => ops.emit('ReduceSum', [v.x as OnnxValue, i64(ops, [0, 2])], [3], { keepdims: 0 }),
  },
  {
    name: 'ReduceSum all axes keepdims 1',
    inputs: { x: { shape: [2, 3] } },
    build: (ops, v) => ops.emit('ReduceSum', [v.x as OnnxValue], [1, 1], { keepdims: 1 }),
  },
  {
    name: 'ReduceMean axes [-1] (attribute, opset 17)',
    inputs: { x: { shape: [2, 3, 4] } },
    build: (ops, v) => ops.emit('ReduceMean', [v.x as OnnxValue], [2, 3, 1], { axes: [-1] }),
  },
  {
    name: 'ReduceMean all axes keepdims 0',
    inputs: { x: { shape: [2, 3] } },
    build: (ops, v) => ops.emit('ReduceMean', [v.x as OnnxValue], [], { keepdims: 0 }),
  },
  // convolutions
  {
    name: 'ConvTranspose stride 2 = kernel (SAM upscaling), bias',
    inputs: { x: { shape: [2, 3, 2, 3] } },
    params: { w: { shape: [3, 2, 2, 2] }, b: { shape: [2] } },
    build: (ops, v) => ops.convTranspose2d(v.x as OnnxValue, v.w as OnnxValue, v.b as OnnxValue, 2),
  },
  {
    name: 'Conv 3x3 pad 1 stride 1, bias',
    inputs: { x: { shape: [2, 2, 4, 4] } },
    params: { w: { shape: [3, 2, 3, 3] }, b: { shape: [3] } },
    build: (ops, v) => ops.conv2d(v.x as OnnxValue, v.w as OnnxValue, v.b as OnnxValue, { pad: 1 }),
  },
  {
    name: 'Conv 2x2 stride 2 (patchify), no bias',
    inputs: { x: { shape: [1, 2, 5, 4] } },
    params: { w: { shape: [3, 2, 2, 2] } },
    build: (ops, v) => ops.conv2d(v.x as OnnxValue, v.w as OnnxValue, undefined, { stride: 2 }),
  },
  {
    name: 'Conv 3x3 stride 2 pad 1',
    inputs: { x: { shape: [1, 2, 5, 5] } },
    params: { w: { shape: [2, 2, 3, 3] } },
    build: (ops, v) => ops.conv2d(v.x as OnnxValue, v.w as OnnxValue, undefined, { stride: 2, pad: 1 }),
  },
];

const worst: string[] = [];
afterAll(() => console.log(`worst |analytic - fd| / bound per case:\n${worst.join('\n')}`));

describe('gradient rules vs central finite differences (onnxruntime-node)', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const r = await gradCheck(c);
    worst.push(`  ${c.name}: ${r.worst.toFixed(3)}`);
    expect(r.perValue, JSON.stringify(r.perValue)).toSatisfy((p: typeof r.perValue) =>
      Object.values(p).every((e) => e.ok),
    );
    expect(r.graph.unreached).toEqual([]);
  });
});
