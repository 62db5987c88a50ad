/**
 * `buildGradientGraph` itself: seeds, summing gradients of reused values, skipping subgraphs off the
 * path, unreached values, and its errors.
 */
import { describe, expect, it } from 'vitest';
import { OnnxGraphBuilder } from '../graph.js';
import { OnnxGraphOps } from '../onnx-ops.js';
import { createSession } from '../session.js';
import type { FloatTensor, HostTensor } from '@samtune/tensor';
import { buildGradientGraph } from './build-gradient-graph.js';
import { GradientGraphError, NoGradientRuleError, UnsupportedGradientError } from './errors.js';
import { gradientRuleOps } from './registry.js';

const t = (data: number[], shape: number[]): FloatTensor => ({
  dtype: 'float32',
  shape,
  data: Float32Array.from(data),
});
const close = (got: ArrayLike<number>, want: number[]): void => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 5));
};

/** loss = sum(x*x + 3x) over x [2,2]; an unrelated branch on x; z an input that does not reach the loss. */
function quadratic(): OnnxGraphOps {
  const ops = new OnnxGraphOps(new Map());
  const x = ops.input('x', [2, 2]);
  const z = ops.input('z', [3]);
  ops.output('side', ops.emit('Exp', [ops.mul(x, x)], [2, 2])); // depends on x, does not reach the loss
  ops.output('zz', ops.sigmoid(z));
  const y = ops.add(ops.mul(x, x), ops.scale(x, 3));
  const loss = ops.emit('ReduceSum', [y], [], { keepdims: 0 });
  ops.output('loss', loss);
  return ops;
}

describe('buildGradientGraph', () => {
  it('sums the gradients of a reused value, skips the side branch, and gives zeros to an unreached input', async () => {
    const ops = quadratic();
    const before = ops.builder.listNodes().length;
    const g = buildGradientGraph(ops.builder, { loss: 'ReduceSum_out', wrt: ['x', 'z'], addOutputs: true });
    expect(g.gradients).toEqual(
      new Map([
        ['x', 'grad.x'],
        ['z', 'grad.z'],
      ]),
    );
    expect(g.unreached).toEqual(['z']);
    // ReduceSum, Add, Mul(x,x), Mul(x,3): the Exp/Sigmoid branches are not differentiated
    expect(g.differentiatedNodes).toBe(4);
    expect(ops.builder.listNodes().length).toBe(before + g.addedNodes);
    expect(ops.builder.valueShape('grad.x')).toEqual([2, 2]);
    expect(ops.builder.listNodes().some((n) => n.name?.startsWith('grad/') && n.input.includes('Exp_out'))).toBe(false);
    const s = await createSession(ops.builder.toModelBytes(), { intraOpNumThreads: 1 });
    const out = await s.run({ x: t([1, -2, 0.5, 3], [2, 2]), z: t([1, 2, 3], [3]) });
    close((out['grad.x'] as FloatTensor).data, [5, -1, 4, 9]); // 2x + 3
    close((out['grad.z'] as FloatTensor).data, [0, 0, 0]);
    await s.release();
  });

  it('scales by a constant seed and by a seed fed as a graph input (gradient accumulation)', async () => {
    const a = quadratic();
    buildGradientGraph(a.builder, { loss: 'ReduceSum_out', wrt: ['x'], seed: 0.25, addOutputs: true });
    const b = quadratic();
    b.input('grad_scale', [1]);
    buildGradientGraph(b.builder, { loss: 'ReduceSum_out', wrt: ['x'], seed: 'grad_scale', addOutputs: true });
    const x = t([1, -2, 0.5, 3], [2, 2]);
    const z = t([0, 0, 0], [3]);
    const sa = await createSession(a.builder.toModelBytes(), { intraOpNumThreads: 1 });
    const sb = await createSession(b.builder.toModelBytes(), { intraOpNumThreads: 1 });
    close(((await sa.run({ x, z }))['grad.x'] as FloatTensor).data, [1.25, -0.25, 1, 2.25]);
    close(((await sb.run({ x, z, grad_scale: t([-2], [1]) }))['grad.x'] as FloatTensor).data, [-10, 2, -8, -18]);
    await sa.release();
    await sb.release();
  });

  it('differentiates initializers (weights) and custom gradient names', async () => {
    const weights = new Map<string, HostTensor>([['w', t([1, 2, 3, 4, 5, 6], [3, 2])]]);
    const ops = new OnnxGraphOps(weights, new OnnxGraphBuilder(), { transposeWeightsAtBuild: false });
    const x = ops.input('x', [1, 2]);
    const y = ops.linear(x, ops.param('w')); // [1,3]
    const loss = ops.emit('ReduceSum', [y], [], { keepdims: 0 });
    const g = buildGradientGraph(ops.builder, { loss: loss.name, wrt: ['w'], gradName: (n) => `d_${n}` });
    ops.output('dw', { name: g.gradients.get('w') as string, shape: [3, 2] });
    const s = await createSession(ops.builder.toModelBytes(), { intraOpNumThreads: 1 });
    close(((await s.run({ x: t([7, -1], [1, 2]) })).dw as FloatTensor).data, [7, -1, 7, -1, 7, -1]);
    await s.release();
  });

  it('the example of the index export: linear + mean square, seed from an input', async () => {
    const weights = new Map<string, HostTensor>([
      [
        'fc.weight',
        t(
          Array.from({ length: 128 }, (_, i) => Math.sin(i)),
          [16, 8],
        ),
      ],
      [
        'fc.bias',
        t(
          Array.from({ length: 16 }, (_, i) => i / 16),
          [16],
        ),
      ],
    ]);
    const ops = new OnnxGraphOps(weights, new OnnxGraphBuilder(), { transposeWeightsAtBuild: false });
    const x = ops.input('x', [4, 8]);
    const y = ops.linear(x, ops.param('fc.weight'), ops.param('fc.bias'));
    const loss = ops.emit('ReduceMean', [ops.mul(y, y)], [], { keepdims: 0 });
    ops.input('grad_scale', [1]);
    buildGradientGraph(ops.builder, {
      loss: loss.name,
      wrt: ['fc.weight', 'fc.bias'],
      seed: 'grad_scale',
      addOutputs: true,
    });
    ops.output('y', y);
    const s = await createSession(ops.builder.toModelBytes(), { intraOpNumThreads: 1 });
    const xs = t(
      Array.from({ length: 32 }, (_, i) => Math.cos(i)),
      [4, 8],
    );
    const out = await s.run({ x: xs, grad_scale: t([0.5], [1]) });
    await s.release();
    // d/db mean(y^2) = 2 * sum_rows(y) / 64, d/dW = 2 * y^T x / 64; times the seed 0.5
    const yv = (out.y as FloatTensor).data;
    const db = Array.from(
      { length: 16 },
      (_, o) => (0.5 * 2 * [0, 1, 2, 3].reduce((a, r) => a + (yv[r * 16 + o] as number), 0)) / 64,
    );
    close((out['grad.fc.bias'] as FloatTensor).data, db);
    const dw = Array.from({ length: 128 }, (_, k) => {
      const [o, i] = [Math.floor(k / 8), k % 8];
      return (
        (0.5 * 2 * [0, 1, 2, 3].reduce((a, r) => a + (yv[r * 16 + o] as number) * (xs.data[r * 8 + i] as number), 0)) /
        64
      );
    });
    close((out['grad.fc.weight'] as FloatTensor).data, dw);
  });

  it('paramsAsInputs: weights become graph inputs and are differentiated as such', () => {
    const weights = new Map<string, HostTensor>([['w', t([1, 2, 3, 4, 5, 6], [3, 2])]]);
    const ops = new OnnxGraphOps(weights, new OnnxGraphBuilder(), { paramsAsInputs: true });
    const y = ops.linear(ops.input('x', [1, 2]), ops.param('w'));
    expect(ops.builder.listInputs().map((i) => i.name)).toEqual(['x', 'w']);
    expect(ops.builder.getInitializer('w')).toBeUndefined();
    const loss = ops.emit('ReduceSum', [y], [], { keepdims: 0 });
    expect(buildGradientGraph(ops.builder, { loss: loss.name, wrt: ['w'] }).unreached).toEqual([]);
  });

  it('throws NoGradientRuleError naming the op type and the node', () => {
    const ops = new OnnxGraphOps(new Map());
    const x = ops.input('x', [2, 3]);
    const y = ops.emit('HardSwish', [x], [2, 3]);
    const loss = ops.emit('ReduceSum', [y], [], { keepdims: 0 });
    const err = (() => {
      try {
        buildGradientGraph(ops.builder, { loss: loss.name, wrt: ['x'] });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(NoGradientRuleError);
    expect((err as NoGradientRuleError).code).toBe('no-gradient-rule');
    expect((err as Error).message).toContain("op 'HardSwish' (node 'HardSwish')");
    expect(gradientRuleOps()).toContain('MatMul');
    expect(gradientRuleOps()).not.toContain('HardSwish');
  });

  it('an op without a rule off the path is fine', () => {
    const ops = new OnnxGraphOps(new Map());
    const x = ops.input('x', [2, 3]);
    const c = ops.input('c', [2, 3]);
    const k = ops.emit('HardSwish', [c], [2, 3]); // does not depend on x
    const loss = ops.emit('ReduceSum', [ops.mul(x, k)], [], { keepdims: 0 });
    expect(buildGradientGraph(ops.builder, { loss: loss.name, wrt: ['x'] }).differentiatedNodes).toBe(2);
  });

  it('does not differentiate a branch behind a zero-gradient op (a thresholded target)', () => {
    const ops = new OnnxGraphOps(new Map());
    const x = ops.input('x', [2, 3]);
    const target = ops.emit('HardSwish', [ops.equalScalar(ops.relu(x), 0)], [2, 3]); // Equal -> Cast -> no rule
    const loss = ops.emit('ReduceSum', [ops.mul(ops.sub(x, target), x)], [], { keepdims: 0 });
    const g = buildGradientGraph(ops.builder, { loss: loss.name, wrt: ['x'] });
    expect(g.differentiatedNodes).toBe(3); // ReduceSum, Mul, Sub (only its x side)
  });

  it('rejects a non-scalar loss, unknown values, a weight hidden behind its build-time transpose, Slice steps', () => {
    const weights = new Map<string, HostTensor>([['w', t([1, 2, 3, 4, 5, 6], [3, 2])]]);
    const ops = new OnnxGraphOps(weights); // default: w is read as the build-time copy 'w.T'
    const x = ops.input('x', [1, 2]);
    const y = ops.linear(x, ops.param('w'));
    const loss = ops.emit('ReduceSum', [y], [], { keepdims: 0 });
    expect(() => buildGradientGraph(ops.builder, { loss: y.name, wrt: ['x'] })).toThrow(
      /must have one element.*\[1,3\]/,
    );
    expect(() => buildGradientGraph(ops.builder, { loss: loss.name, wrt: ['nope'] })).toThrow(GradientGraphError);
    expect(() => buildGradientGraph(ops.builder, { loss: loss.name, wrt: ['w'] })).toThrow(
      /transposeWeightsAtBuild: false/,
    );

    const o2 = new OnnxGraphOps(new Map());
    const v = o2.input('v', [6]);
    const s = o2.emit(
      'Slice',
      [v, o2.int64Const([0]), o2.int64Const([6]), o2.int64Const([0]), o2.int64Const([2])],
      [3],
    );
    const l2 = o2.emit('ReduceSum', [s], [], { keepdims: 0 });
    expect(() => buildGradientGraph(o2.builder, { loss: l2.name, wrt: ['v'] })).toThrow(UnsupportedGradientError);
  });
});
