/**
 * Dynamic quantization (the fallback: no calibration data needed). Every `MatMul` by a constant
 * `[K,N]` weight becomes
 * `DynamicQuantizeLinear(A) → MatMulInteger(A_u8, W_s8, A_zero_point) → Cast(float) → Mul(A_scale · W_scale[N])`:
 * weights int8 per output column (symmetric), activations uint8 with a range computed per run.
 * onnxruntime fuses the pattern into `DynamicQuantizeMatMul`. Conv, Gemm and MatMuls of two
 * activations stay float.
 */
import { DataType, encodeModel } from '@samtune/onnx';
import type { NodeProto, TensorProto } from '@samtune/onnx';
import { floatTensor, makeNode, makeTensor, ModelGraph } from './model-graph.js';
import { QUANTIZATION_METADATA_KEY } from './qdq-apply.js';
import type { QdqSummary } from './qdq-apply.js';
import { isExcluded, nodeLabel } from './qdq-plan.js';
import { quantizeWeight } from './qparams.js';
import { toModelProto } from './quantize.js';
import type { ModelInput, QuantizeResult } from './quantize.js';

export interface DynamicQuantizeOptions {
  /** Nodes kept float (see `QdqOptions.exclude`). */
  readonly exclude?: readonly (string | RegExp)[];
  /** 7-bit weights. Default false. */
  readonly reduceRange?: boolean;
}

/** Quantizes `model` dynamically (see the module comment). */
export function quantizeDynamic(model: ModelInput, options: DynamicQuantizeOptions = {}): QuantizeResult {
  const proto = toModelProto(model);
  const g = new ModelGraph(proto);
  const exclude = options.exclude ?? [];
  const newInits: TensorProto[] = [];
  const dynq = new Map<string, [string, string, string]>();
  const weights = new Map<string, { q: string; scale: string }>();
  const quantizedNodes: string[] = [];
  const keptFloat: { name: string; opType: string; reason: string }[] = [];
  let floatBytes = 0;
  let int8Bytes = 0;
  const nodes: NodeProto[] = [];

  proto.graph.node.forEach((node, index) => {
    const name = nodeLabel(node, index);
    const [a = '', b = ''] = node.input;
    const w = node.opType === 'MatMul' && (node.domain ?? '') === '' ? g.floatInitializer(b) : undefined;
    if (node.opType !== 'MatMul' || (node.domain ?? '') !== '') {
      if (['Conv', 'ConvTranspose', 'Gemm'].includes(node.opType))
        keptFloat.push({ name, opType: node.opType, reason: 'dynamic mode quantizes MatMul only' });
      nodes.push(node);
      return;
    }
    const reason =
      !w || w.shape.length !== 2
        ? 'B is not a constant [K,N] weight'
        : !g.isActivation(a)
          ? 'A is a constant'
          : isExcluded([name, b], exclude)
            ? 'excluded by name'
            : undefined;
    if (reason || !w) {
      keptFloat.push({ name, opType: 'MatMul', reason: reason ?? '' });
      nodes.push(node);
      return;
    }
    let aq = dynq.get(a);
    if (!aq) {
      aq = [g.fresh(`${a}_quantized`), g.fresh(`${a}_scale`), g.fresh(`${a}_zero_point`)];
      nodes.push(makeNode('DynamicQuantizeLinear', g.fresh(`${a}_DynamicQuantizeLinear`), [a], [...aq]));
      dynq.set(a, aq);
    }
    let wq = weights.get(b);
    if (!wq) {
      const q = quantizeWeight(w.data, w.shape, 1, options.reduceRange ?? false);
      wq = { q: g.fresh(`${b}_quantized`), scale: g.fresh(`${b}_scale`) };
      newInits.push(
        makeTensor(wq.q, DataType.INT8, w.shape, q.data),
        floatTensor(wq.scale, q.scales, [q.scales.length]),
      );
      weights.set(b, wq);
      floatBytes += w.data.byteLength;
      int8Bytes += q.data.byteLength + q.scales.byteLength;
    }
    const out = node.output[0] as string;
    const i32 = g.fresh(`${name}_int32`);
    const f = g.fresh(`${name}_float`);
    const s = g.fresh(`${name}_output_scale`);
    nodes.push(
      makeNode('MatMulInteger', g.fresh(`${name}/MatMulInteger`), [aq[0], wq.q, aq[2]], [i32]),
      makeNode('Cast', g.fresh(`${name}/Cast`), [i32], [f], { to: DataType.FLOAT }),
      makeNode('Mul', g.fresh(`${name}/Mul_scale`), [aq[1], wq.scale], [s]),
      makeNode('Mul', g.fresh(`${name}/Mul`), [f, s], [out]),
    );
    quantizedNodes.push(name);
  });

  const used = new Set<string>(proto.graph.output.map((o) => o.name));
  for (const n of nodes) for (const i of n.input) used.add(i);
  const initializer = [...proto.graph.initializer.filter((t) => used.has(t.name)), ...newInits];
  const meta = {
    format: 'dynamic',
    activations: 'uint8 per-tensor, range per run (DynamicQuantizeLinear)',
    weights: 'int8 per-column symmetric',
    quantized: { MatMul: quantizedNodes.length },
  };
  const q = {
    ...proto,
    graph: { ...proto.graph, node: nodes, initializer },
    metadataProps: [
      ...proto.metadataProps.filter((e) => e.key !== QUANTIZATION_METADATA_KEY),
      { key: QUANTIZATION_METADATA_KEY, value: JSON.stringify(meta) },
    ],
  };
  const summary: QdqSummary = {
    quantized: { MatMul: quantizedNodes.length },
    quantizedNodes,
    keptFloat,
    activationTensors: dynq.size,
    weightTensors: weights.size,
    weightBytes: { float: floatBytes, int8: int8Bytes },
    activations: {},
  };
  return { model: q, bytes: encodeModel(q), summary };
}
