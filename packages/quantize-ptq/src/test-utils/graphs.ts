/**
 * Test-only: small float graphs built with `OnnxGraphBuilder` (seeded weights), seeded input
 * samples, and the fixture locator.
 */
import { mulberry32 } from '@samtune/sam-model';
import { decodeModel, OnnxGraphBuilder } from '@samtune/onnx';
import type { HostTensor } from '@samtune/sam-model';
import type { ModelProto } from '@samtune/onnx';
import type { Feeds } from '../calibrate.js';
export { sharedPath } from '@samtune/test-fixtures';

/** Seeded uniform values in [lo, hi). */
export function seeded(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

const f32 = (data: Float32Array, shape: number[]): HostTensor => ({ dtype: 'float32', shape, data });

/**
 * `x [2,4,8] → MatMul(w1 [8,6]) → Add(b1 [6]) → Relu → MatMul(w2 [6,3]) → Softmax(-1) → y [2,4,3]`.
 * The first MatMul+Add is a linear layer (→ Gemm), the second MatMul has no bias.
 */
export function mlpModel(): ModelProto {
  const b = new OnnxGraphBuilder({ name: 'mlp' });
  const x = b.addInput('x', [2, 4, 8]);
  b.addInitializer('fc1.weight.T', f32(seeded(48, 1), [8, 6]) as HostTensor<'float32'>);
  b.addInitializer('fc1.bias', f32(seeded(6, 2, -0.5, 0.5), [6]) as HostTensor<'float32'>);
  b.addInitializer('fc2.weight.T', f32(seeded(18, 3), [6, 3]) as HostTensor<'float32'>);
  const [h] = b.addNode('MatMul', [x, 'fc1.weight.T'], {}, { name: 'fc1/MatMul' });
  const [hb] = b.addNode('Add', [h as string, 'fc1.bias'], {}, { name: 'fc1/Add' });
  const [r] = b.addNode('Relu', [hb as string], {}, { name: 'relu' });
  const [o] = b.addNode('MatMul', [r as string, 'fc2.weight.T'], {}, { name: 'fc2/MatMul' });
  b.addNode('Softmax', [o as string], { axis: -1 }, { name: 'softmax', outputs: ['y'] });
  b.addOutput('y', [2, 4, 3]);
  return decodeModel(b.toModelBytes());
}

/** `x [1,3,8,8] → Conv(w [4,3,3,3], b [4], pad 1) → Relu → Conv(w2 [2,4,1,1]) → y [1,2,8,8]`. */
export function convModel(): ModelProto {
  const b = new OnnxGraphBuilder({ name: 'conv' });
  const x = b.addInput('x', [1, 3, 8, 8]);
  b.addInitializer('conv1.weight', f32(seeded(108, 4), [4, 3, 3, 3]) as HostTensor<'float32'>);
  b.addInitializer('conv1.bias', f32(seeded(4, 5, -0.2, 0.2), [4]) as HostTensor<'float32'>);
  b.addInitializer('conv2.weight', f32(seeded(8, 6), [2, 4, 1, 1]) as HostTensor<'float32'>);
  const [c1] = b.addNode(
    'Conv',
    [x, 'conv1.weight', 'conv1.bias'],
    { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
    { name: 'conv1' },
  );
  const [r] = b.addNode('Relu', [c1 as string], {}, { name: 'relu' });
  b.addNode('Conv', [r as string, 'conv2.weight'], { kernel_shape: [1, 1] }, { name: 'conv2', outputs: ['y'] });
  b.addOutput('y', [1, 2, 8, 8]);
  return decodeModel(b.toModelBytes());
}

/** `n` seeded samples of input `name` with `shape`, values in [lo, hi). */
export function samples(name: string, shape: number[], n: number, seed = 100, lo = -1, hi = 1): Feeds[] {
  const len = shape.reduce((a, d) => a * d, 1);
  return Array.from({ length: n }, (_, i) => ({ [name]: f32(seeded(len, seed + i, lo, hi), shape) }));
}
