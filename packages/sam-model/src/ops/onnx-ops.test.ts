import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostTensor } from '@samtune/tensor';
import type { OpsProgram, ParityInput } from './test-utils/parity.js';
import { parity, randn } from './test-utils/parity.js';

const ratios: [string, number][] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => {
  const worst = [...ratios].sort((a, b) => b[1] - a[1]).slice(0, 5);
  console.log(
    `onnx-ops parity, worst ratios (max|diff| / tolerance): ${worst.map(([n, r]) => `${n} ${r.toExponential(2)}`).join(', ')}`,
  );
});

interface Case {
  name: string;
  program: OpsProgram;
  inputs: ParityInput[];
  weights?: [string, HostTensor][];
  /** Expected output shape (tfjs and the statically inferred one). */
  shape: number[];
}

const x = (shape: number[], seed: number, scale = 1): ParityInput => ({ tensor: randn(shape, seed, scale) });
const w = (key: string, shape: number[], seed: number, scale = 0.3): [string, HostTensor] => [
  key,
  randn(shape, seed, scale),
];
/** Values in {-1,0,1,2} (prompt labels). */
const labels: ParityInput = {
  tensor: { dtype: 'float32', shape: [2, 5], data: Float32Array.from([1, 0, -1, 2, 1, 1, 1, 0, -1, 2]) },
};
/** Denominator away from zero. */
const denom: ParityInput = { tensor: { dtype: 'float32', shape: [3, 1], data: Float32Array.from([0.7, -1.3, 2.1]) } };

const cases: Case[] = [
  {
    name: 'add (broadcast)',
    program: (o, [a, b]) => o.add(a!, b!),
    inputs: [x([2, 1, 4], 1), x([3, 1], 2)],
    shape: [2, 3, 4],
  },
  {
    name: 'sub (broadcast)',
    program: (o, [a, b]) => o.sub(a!, b!),
    inputs: [x([4], 3), x([2, 3, 4], 4)],
    shape: [2, 3, 4],
  },
  {
    name: 'mul (broadcast)',
    program: (o, [a, b]) => o.mul(a!, b!),
    inputs: [x([2, 3, 1], 5), x([1, 4], 6)],
    shape: [2, 3, 4],
  },
  {
    name: 'div (broadcast)',
    program: (o, [a, b]) => o.div(a!, b!),
    inputs: [x([2, 3, 4], 7), denom],
    shape: [2, 3, 4],
  },
  { name: 'scale', program: (o, [a]) => o.scale(a!, -0.125), inputs: [x([3, 5], 8)], shape: [3, 5] },
  { name: 'addScalar', program: (o, [a]) => o.addScalar(a!, 2.5), inputs: [x([3, 5], 9)], shape: [3, 5] },
  {
    name: 'constant (+ shape)',
    program: (o, [a]) => o.add(a!, o.constant(Float32Array.from([0.5, -1, 2]), [o.shape(a!)[1]!, 1], 'table')),
    inputs: [x([2, 3, 4], 54)],
    shape: [2, 3, 4],
  },
  { name: 'equalScalar', program: (o, [a]) => o.equalScalar(a!, 1), inputs: [labels], shape: [2, 5] },
  {
    name: 'matmul (batched, broadcast)',
    program: (o, [a, b]) => o.matmul(a!, b!),
    inputs: [x([2, 3, 4, 5], 10), x([3, 5, 6], 11)],
    shape: [2, 3, 4, 6],
  },
  {
    name: 'matmul transposeB (node)',
    program: (o, [a, b]) => o.matmul(a!, b!, true),
    inputs: [x([2, 4, 5], 12), x([1, 6, 5], 13)],
    shape: [2, 4, 6],
  },
  {
    name: 'matmul transposeB (2-D weight, build-time transpose)',
    program: (o, [a]) => o.matmul(a!, o.param('w'), true),
    inputs: [x([3, 4, 5], 14)],
    weights: [w('w', [6, 5], 15)],
    shape: [3, 4, 6],
  },
  {
    name: 'linear (bias)',
    program: (o, [a]) => o.linear(a!, o.param('l.weight'), o.param('l.bias')),
    inputs: [x([2, 3, 8], 16)],
    weights: [w('l.weight', [5, 8], 17), w('l.bias', [5], 18)],
    shape: [2, 3, 5],
  },
  {
    name: 'linear (no bias, rank 4)',
    program: (o, [a]) => o.linear(a!, o.param('l.weight')),
    inputs: [x([1, 2, 3, 8], 19)],
    weights: [w('l.weight', [4, 8], 20)],
    shape: [1, 2, 3, 4],
  },
  {
    name: 'conv2d (stride 2, pad 1, bias)',
    program: (o, [a]) => o.conv2d(a!, o.param('c.weight'), o.param('c.bias'), { stride: 2, pad: 1 }),
    inputs: [x([1, 4, 9, 9], 21)],
    weights: [w('c.weight', [6, 4, 3, 3], 22), w('c.bias', [6], 23)],
    shape: [1, 6, 5, 5],
  },
  {
    name: 'conv2d (depthwise, groups 4)',
    program: (o, [a]) => o.conv2d(a!, o.param('c.weight'), o.param('c.bias'), { pad: 1, groups: 4 }),
    inputs: [x([2, 4, 7, 6], 24)],
    weights: [w('c.weight', [4, 1, 3, 3], 25), w('c.bias', [4], 26)],
    shape: [2, 4, 7, 6],
  },
  {
    name: 'conv2d (1x1, no bias)',
    program: (o, [a]) => o.conv2d(a!, o.param('c.weight'), undefined),
    inputs: [x([1, 3, 5, 4], 27)],
    weights: [w('c.weight', [2, 3, 1, 1], 28)],
    shape: [1, 2, 5, 4],
  },
  {
    name: 'convTranspose2d (k = stride = 2)',
    program: (o, [a]) => o.convTranspose2d(a!, o.param('t.weight'), o.param('t.bias'), 2),
    inputs: [x([2, 4, 5, 6], 29)],
    weights: [w('t.weight', [4, 3, 2, 2], 30), w('t.bias', [3], 31)],
    shape: [2, 3, 10, 12],
  },
  { name: 'reshape [-1,4]', program: (o, [a]) => o.reshape(a!, [-1, 4]), inputs: [x([2, 3, 4], 32)], shape: [6, 4] },
  {
    name: 'reshape [2,-1,2]',
    program: (o, [a]) => o.reshape(a!, [2, -1, 2]),
    inputs: [x([6, 4], 33)],
    shape: [2, 6, 2],
  },
  {
    name: 'transpose',
    program: (o, [a]) => o.transpose(a!, [2, 0, 3, 1]),
    inputs: [x([2, 3, 4, 5], 34)],
    shape: [4, 2, 5, 3],
  },
  {
    name: 'concat axis -1',
    program: (o, [a, b]) => o.concat([a!, b!, a!], -1),
    inputs: [x([2, 3], 35), x([2, 4], 36)],
    shape: [2, 10],
  },
  {
    name: 'concat axis 1',
    program: (o, [a, b]) => o.concat([a!, b!], 1),
    inputs: [x([1, 2, 5], 37), x([1, 3, 5], 38)],
    shape: [1, 5, 5],
  },
  {
    name: 'slice (negative axis)',
    program: (o, [a]) => o.slice(a!, -1, 1, 4),
    inputs: [x([2, 3, 5], 39)],
    shape: [2, 3, 3],
  },
  { name: 'slice (axis 1)', program: (o, [a]) => o.slice(a!, 1, 0, 2), inputs: [x([2, 3, 5], 40)], shape: [2, 2, 5] },
  {
    name: 'pad',
    program: (o, [a]) =>
      o.pad(a!, [
        [0, 0],
        [1, 2],
        [0, 3],
      ]),
    inputs: [x([2, 3, 4], 41)],
    shape: [2, 6, 7],
  },
  { name: 'softmax', program: (o, [a]) => o.softmax(a!), inputs: [x([2, 3, 7], 42, 3)], shape: [2, 3, 7] },
  {
    name: 'layerNorm',
    program: (o, [a]) => o.layerNorm(a!, o.param('n.weight'), o.param('n.bias'), 1e-6),
    inputs: [x([2, 3, 16], 43, 2)],
    weights: [w('n.weight', [16], 44, 1), w('n.bias', [16], 45, 1)],
    shape: [2, 3, 16],
  },
  { name: 'gelu', program: (o, [a]) => o.gelu(a!), inputs: [x([4, 50], 46, 3)], shape: [4, 50] },
  { name: 'relu', program: (o, [a]) => o.relu(a!), inputs: [x([4, 5], 47)], shape: [4, 5] },
  { name: 'sigmoid', program: (o, [a]) => o.sigmoid(a!), inputs: [x([4, 5], 48, 4)], shape: [4, 5] },
  { name: 'sin', program: (o, [a]) => o.sin(a!), inputs: [x([4, 5], 49, 4)], shape: [4, 5] },
  { name: 'cos', program: (o, [a]) => o.cos(a!), inputs: [x([4, 5], 50, 4)], shape: [4, 5] },
  {
    name: 'resizeBilinear up (5x7 -> 11x13)',
    program: (o, [a]) => o.resizeBilinear(a!, [11, 13]),
    inputs: [x([1, 2, 5, 7], 51)],
    shape: [1, 2, 11, 13],
  },
  {
    name: 'resizeBilinear down (16x12 -> 5x7)',
    program: (o, [a]) => o.resizeBilinear(a!, [5, 7]),
    inputs: [x([2, 3, 16, 12], 52)],
    shape: [2, 3, 5, 7],
  },
  {
    name: 'resizeBilinear mixed (6x9 -> 13x4)',
    program: (o, [a]) => o.resizeBilinear(a!, [13, 4]),
    inputs: [x([1, 1, 6, 9], 53)],
    shape: [1, 1, 13, 4],
  },
];

describe('OnnxGraphOps vs TfjsOps (tfjs cpu), per op', () => {
  it.each(cases)('$name', async (c) => {
    const [r] = await parity(c.program, [c.inputs], new Map(c.weights ?? []));
    ratios.push([c.name, r!.agreement.ratio]);
    expect(r!.ref.shape).toEqual(c.shape);
    expect(r!.staticShape).toEqual(c.shape);
    expect(r!.agreement.ratio).toBeLessThanOrEqual(1);
    // non-trivial outputs
    expect(r!.agreement.maxAbsRef).toBeGreaterThan(0.1);
  });
});
