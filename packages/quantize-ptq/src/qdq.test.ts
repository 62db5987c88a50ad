import { createSession, DataType, encodeModel, OnnxGraphBuilder, tensorFloats } from '@samtune/onnx';
import type { ModelProto, NodeProto, TensorProto } from '@samtune/onnx';
import { describe, expect, it } from 'vitest';
import { collectStats, rangesFrom } from './calibrate.js';
import { compareOutputs } from './fidelity.js';
import { applyQdq } from './qdq-apply.js';
import { planQdq } from './qdq-plan.js';
import { activationParams } from './qparams.js';
import { quantizeDynamic } from './quantize-dynamic.js';
import { quantizeStatic } from './quantize.js';
import { convModel, mlpModel, samples, seeded } from './test-utils/graphs.js';

const init = (m: ModelProto, name: string): TensorProto => {
  const t = m.graph.initializer.find((x) => x.name === name);
  if (!t) throw new Error(`no initializer ${name}`);
  return t;
};
const nodesOf = (m: ModelProto, op: string): NodeProto[] => m.graph.node.filter((n) => n.opType === op);
const axisOf = (n: NodeProto): number | undefined => n.attribute.find((a) => a.name === 'axis')?.i;
const scalar = (t: TensorProto): number =>
  t.dataType === DataType.FLOAT ? (tensorFloats(t)[0] as number) : (t.rawData?.[0] as number);

describe('planQdq', () => {
  it('quantizes MatMul activations + constant weights, rewrites MatMul+bias as Gemm, leaves Softmax float', () => {
    const plan = planQdq(mlpModel());
    expect(plan.nodes.map((n) => [n.name, n.opType, n.gemmFromAdd !== undefined])).toEqual([
      ['fc1/MatMul', 'MatMul', true],
      ['fc2/MatMul', 'MatMul', false],
    ]);
    expect(plan.tensors).toEqual(['x', 'relu_out']);
    expect(plan.nodes[0]?.weights).toEqual([{ input: 1, name: 'fc1.weight.T', axis: 1 }]);
    expect(plan.nodes[0]?.bias).toMatchObject({ name: 'fc1.bias', activation: 'x' });
  });

  it('quantizes Conv input, output (for QLinearConv) and weights per output channel (axis 0)', () => {
    const plan = planQdq(convModel());
    expect(plan.nodes.map((n) => n.name)).toEqual(['conv1', 'conv2']);
    expect(plan.tensors).toEqual(['x', 'conv1_out', 'relu_out']); // conv2's output is the graph output: left float
    expect(plan.rerouteAll).toEqual(['conv1_out']);
    expect(plan.nodes.map((n) => n.weights[0]?.axis)).toEqual([0, 0]);
  });

  it('keeps nodes float by node name or weight name, and says why', () => {
    const plan = planQdq(mlpModel(), { exclude: ['fc2'] });
    expect(plan.nodes.map((n) => n.name)).toEqual(['fc1/MatMul']);
    expect(plan.skipped).toEqual([{ name: 'fc2/MatMul', opType: 'MatMul', reason: 'excluded by name' }]);
    expect(planQdq(mlpModel(), { exclude: [/^fc1\.weight/] }).nodes.map((n) => n.name)).toEqual(['fc2/MatMul']);
  });
});

describe('applyQdq (static INT8, QDQ)', () => {
  it('inserts Q/DQ pairs with the calibrated scale/zero point and per-channel int8 weights', async () => {
    const model = mlpModel();
    const plan = planQdq(model);
    const stats = await collectStats(model, plan.tensors, samples('x', [2, 4, 8], 4), {
      session: { intraOpNumThreads: 1 },
    });
    const ranges = rangesFrom(stats, 'minmax');
    const { model: q, summary } = applyQdq(model, plan, ranges);

    // activations: one QuantizeLinear per calibrated tensor, scale/zp from its range
    expect(nodesOf(q, 'QuantizeLinear').map((n) => n.input[0])).toEqual(['x', 'relu_out']);
    const rx = ranges.get('x') as { min: number; max: number };
    const px = activationParams(rx.min, rx.max);
    expect(scalar(init(q, 'x_scale'))).toBe(px.scale);
    expect(scalar(init(q, 'x_zero_point'))).toBe(px.zeroPoint);
    expect(init(q, 'x_zero_point').dataType).toBe(DataType.UINT8);
    expect(rangesFrom(stats, 'minmax').get('relu_out')?.min).toBe(0); // post-ReLU: zero point 0

    // weights: int8 [K,N], one scale per output column, DequantizeLinear axis 1
    const w = init(q, 'fc1.weight.T_quantized');
    expect([w.dataType, w.dims]).toEqual([DataType.INT8, [8, 6]]);
    expect(init(q, 'fc1.weight.T_scale').dims).toEqual([6]);
    const wdq = nodesOf(q, 'DequantizeLinear').find((n) => n.input[0] === 'fc1.weight.T_quantized') as NodeProto;
    expect(axisOf(wdq)).toBe(1);
    expect(q.graph.initializer.some((t) => t.name === 'fc1.weight.T')).toBe(false); // float weight dropped

    // MatMul + Add(bias) became one Gemm with an int32 bias (scale x_scale * w_scale[c]); the Add is gone
    const gemm = nodesOf(q, 'Gemm');
    expect(gemm).toHaveLength(1);
    expect(init(q, 'fc1.bias_quantized').dataType).toBe(DataType.INT32);
    const bs = tensorFloats(init(q, 'fc1.bias_scale'));
    const ws = tensorFloats(init(q, 'fc1.weight.T_scale'));
    expect(bs[2]).toBe(Math.fround(px.scale * (ws[2] as number)));
    expect(q.graph.node.some((n) => n.name === 'fc1/Add')).toBe(false);
    expect(nodesOf(q, 'Softmax')).toHaveLength(1);
    expect(summary.quantized).toEqual({ 'MatMul+Add→Gemm': 1, MatMul: 1 });

    // it runs in onnxruntime, and INT8 agrees with FP32
    const fid = await compareOutputs(encodeModel(model), encodeModel(q), samples('x', [2, 4, 8], 3, 900), {
      session: { intraOpNumThreads: 1 },
    });
    expect(fid.outputs.y?.relRmse).toBeLessThan(0.02);
  });

  it('Conv: QuantizeLinear after conv1 feeds every consumer; weights axis 0; INT8 ≈ FP32', async () => {
    const model = convModel();
    const r = await quantizeStatic(model, samples('x', [1, 3, 8, 8], 4), { session: { intraOpNumThreads: 1 } });
    const q = r.model;
    const relu = nodesOf(q, 'Relu')[0] as NodeProto;
    expect(relu.input).toEqual(['conv1_out_dequantized']);
    for (const n of nodesOf(q, 'DequantizeLinear').filter((d) => d.input[0]?.endsWith('weight_quantized')))
      expect(axisOf(n)).toBe(0);
    expect(init(q, 'conv1.weight_scale').dims).toEqual([4]);
    expect(init(q, 'conv2.weight_scale').dims).toEqual([2]);
    const fid = await compareOutputs(encodeModel(model), r.bytes, samples('x', [1, 3, 8, 8], 3, 900), {
      session: { intraOpNumThreads: 1 },
    });
    expect(fid.outputs.y?.relRmse).toBeLessThan(0.03);
    expect(fid.outputs.y?.cosine).toBeGreaterThan(0.999);
  });

  it('a rank-2 activation goes straight into Gemm; a rank-3 one gets constant reshapes from the calibrated shape', async () => {
    const b = new OnnxGraphBuilder({ name: 'flat' });
    b.addInput('x', [4, 8]);
    b.addInitializer('w', { dtype: 'float32', shape: [8, 3], data: seeded(24, 9) });
    b.addInitializer('b', { dtype: 'float32', shape: [3], data: seeded(3, 10) });
    const [h] = b.addNode('MatMul', ['x', 'w']);
    b.addNode('Add', [h as string, 'b'], {}, { outputs: ['y'] });
    b.addOutput('y', [4, 3]);
    const flat = await quantizeStatic(b.toModelBytes(), samples('x', [4, 8], 2));
    expect(flat.model.graph.node.map((n) => n.opType)).toEqual([
      'QuantizeLinear',
      'DequantizeLinear',
      'DequantizeLinear',
      'DequantizeLinear',
      'Gemm',
    ]);
    const mlp = await quantizeStatic(mlpModel(), samples('x', [2, 4, 8], 2));
    const reshapes = mlp.model.graph.node
      .filter((n) => n.opType === 'Reshape')
      .map((n) =>
        Array.from(
          new BigInt64Array(init(mlp.model, n.input[1] as string).rawData?.slice().buffer as ArrayBuffer),
          Number,
        ),
      );
    expect(reshapes).toEqual([
      [-1, 8],
      [2, 4, 6],
    ]);
  });

  it('Gemm with transB=1: weight [N,K] per output row (axis 0), int32 bias, INT8 ≈ FP32', async () => {
    const b = new OnnxGraphBuilder({ name: 'gemm' });
    b.addInput('x', [4, 8]);
    b.addInitializer('w', { dtype: 'float32', shape: [6, 8], data: seeded(48, 11) });
    b.addInitializer('c', { dtype: 'float32', shape: [6], data: seeded(6, 12) });
    b.addNode('Gemm', ['x', 'w', 'c'], { transB: 1 }, { outputs: ['y'], name: 'fc' });
    b.addOutput('y', [4, 6]);
    const model = b.toModelBytes();
    const r = await quantizeStatic(model, samples('x', [4, 8], 3));
    const dq = nodesOf(r.model, 'DequantizeLinear');
    expect(axisOf(dq.find((n) => n.input[0] === 'w_quantized') as NodeProto)).toBe(0);
    expect(init(r.model, 'w_scale').dims).toEqual([6]);
    expect(init(r.model, 'c_quantized').dataType).toBe(DataType.INT32);
    expect(nodesOf(r.model, 'Gemm')[0]?.input).toEqual(['x_dequantized', 'w_dequantized', 'c_dequantized']);
    const fid = await compareOutputs(model, r.bytes, samples('x', [4, 8], 3, 900), {
      session: { intraOpNumThreads: 1 },
    });
    expect(fid.outputs.y?.relRmse).toBeLessThan(0.02);
  });

  it('calibration is deterministic: same samples → identical ranges and identical model bytes', async () => {
    const a = await quantizeStatic(mlpModel(), samples('x', [2, 4, 8], 3), {
      method: 'percentile',
      session: { intraOpNumThreads: 2 },
    });
    const b = await quantizeStatic(mlpModel(), samples('x', [2, 4, 8], 3), {
      method: 'percentile',
      session: { intraOpNumThreads: 2 },
    });
    expect(b.summary.activations).toEqual(a.summary.activations);
    expect(Buffer.from(b.bytes).equals(Buffer.from(a.bytes))).toBe(true);
  });

  it('keeps float a node whose calibrated input range is a single value', async () => {
    const r = await quantizeStatic(mlpModel(), samples('x', [2, 4, 8], 2, 0, 0, 0)); // x never exercised (all zeros)
    expect(r.summary.quantizedNodes).toEqual(['fc2/MatMul']);
    expect(r.summary.keptFloat).toEqual([
      {
        name: 'fc1/MatMul',
        opType: 'MatMul',
        reason: 'calibration saw a single value in x (never exercised by the samples)',
      },
    ]);
  });
});

describe('quantizeDynamic', () => {
  it('turns MatMul by a constant into DynamicQuantizeLinear + MatMulInteger and stays close to FP32', async () => {
    const model = mlpModel();
    const r = quantizeDynamic(model);
    expect(nodesOf(r.model, 'DynamicQuantizeLinear').map((n) => n.input[0])).toEqual(['x', 'relu_out']);
    expect(nodesOf(r.model, 'MatMulInteger')).toHaveLength(2);
    expect(init(r.model, 'fc2.weight.T_quantized').dataType).toBe(DataType.INT8);
    const s = await createSession(r.bytes, { intraOpNumThreads: 1 });
    await s.release();
    const fid = await compareOutputs(encodeModel(model), r.bytes, samples('x', [2, 4, 8], 3, 900), {
      session: { intraOpNumThreads: 1 },
    });
    expect(fid.outputs.y?.relRmse).toBeLessThan(0.02);
  });
});
