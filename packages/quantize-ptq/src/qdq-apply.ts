/**
 * Applies a `QdqPlan` with calibrated ranges: a new `ModelProto` in QDQ form (opset >= 13).
 *
 * Per activation tensor T: `T → QuantizeLinear(T_scale, T_zero_point uint8) → T_quantized →
 * DequantizeLinear → T_dequantized`, placed right after T's producer; the quantized nodes read
 * `T_dequantized` (for quantized outputs, every consumer does). Per weight W: an int8 initializer
 * `W_quantized` with per-channel `W_scale` / `W_zero_point` (zeros) and a `DequantizeLinear` (axis) at
 * the top of the graph; the float W is dropped when nothing else reads it. Biases become int32.
 */
import { DataType, tensorFloats } from '@samtune/onnx';
import type { ModelProto, NodeProto, TensorProto } from '@samtune/onnx';
import type { ObservedShape } from './calibrate.js';
import type { TensorRange } from './histogram.js';
import { floatTensor, makeNode, makeTensor, ModelGraph, QuantizeModelError } from './model-graph.js';
import { activationParams, quantizeBias, quantizeWeight } from './qparams.js';
import type { ActivationParams } from './qparams.js';
import type { QdqPlan } from './qdq-plan.js';

/** What `applyQdq` did. */
export interface QdqSummary {
  /** Quantized nodes per op type. */
  readonly quantized: Readonly<Record<string, number>>;
  /** Names of the quantized nodes. */
  readonly quantizedNodes: readonly string[];
  /** Quantizable nodes kept float, with the reason. */
  readonly keptFloat: readonly { readonly name: string; readonly opType: string; readonly reason: string }[];
  readonly activationTensors: number;
  readonly weightTensors: number;
  /** Float weight bytes replaced by int8 (before → after, scales included). */
  readonly weightBytes: { readonly float: number; readonly int8: number };
  /** Activation parameters by tensor name. */
  readonly activations: Readonly<Record<string, ActivationParams & TensorRange>>;
}

/** Metadata key holding a JSON description of the quantization. */
export const QUANTIZATION_METADATA_KEY = 'samtune.quantization';

/**
 * Builds the QDQ model (see the module comment). `ranges` must hold every `plan.tensors` entry.
 * @param metadata extra fields merged into the `samtune.quantization` metadata JSON.
 * @param shapes shapes calibration observed; they let a MatMul+Add→Gemm rewrite skip (rank 2) or
 *   fix (one dynamic axis) its reshapes instead of computing the output shape at run time.
 */
export function applyQdq(
  model: ModelProto,
  plan: QdqPlan,
  ranges: ReadonlyMap<string, TensorRange>,
  metadata: Record<string, unknown> = {},
  shapes: ReadonlyMap<string, ObservedShape> = new Map(),
): { model: ModelProto; summary: QdqSummary } {
  const g = new ModelGraph(model);
  const opset = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0;
  if (opset < 13)
    throw new QuantizeModelError(
      `applyQdq(model): per-channel QDQ needs opset >= 13, the model imports opset ${opset}`,
    );
  const head: NodeProto[] = [];
  const newInits: TensorProto[] = [];
  const dq = new Map<string, string>();
  const params = new Map<string, ActivationParams & TensorRange>();
  const qdqAfter = new Map<string, NodeProto[]>();

  for (const t of plan.tensors) {
    const r = ranges.get(t);
    if (!r)
      throw new QuantizeModelError(
        `applyQdq(ranges): no calibrated range for activation '${t}' (the plan needs ${plan.tensors.length} tensors, ranges has ${ranges.size})`,
      );
    const p = activationParams(r.min, r.max);
    params.set(t, { ...p, min: r.min, max: r.max });
    const scale = g.fresh(`${t}_scale`);
    const zp = g.fresh(`${t}_zero_point`);
    const q = g.fresh(`${t}_quantized`);
    const d = g.fresh(`${t}_dequantized`);
    newInits.push(
      floatTensor(scale, new Float32Array([p.scale]), []),
      makeTensor(zp, DataType.UINT8, [], new Uint8Array([p.zeroPoint])),
    );
    const pair = [
      makeNode('QuantizeLinear', g.fresh(`${t}_QuantizeLinear`), [t, scale, zp], [q]),
      makeNode('DequantizeLinear', g.fresh(`${t}_DequantizeLinear`), [q, scale, zp], [d]),
    ];
    const producer = g.producers.get(t);
    if (producer) qdqAfter.set(t, pair);
    else head.push(...pair);
    dq.set(t, d);
  }

  const weightDq = new Map<string, { out: string; scales: Float32Array }>();
  let floatBytes = 0;
  let int8Bytes = 0;
  const weightFor = (name: string, axis: number | undefined): { out: string; scales: Float32Array } => {
    const key = `${name}|${axis ?? 'tensor'}`;
    const known = weightDq.get(key);
    if (known) return known;
    const w = g.floatInitializer(name);
    if (!w) throw new QuantizeModelError(`applyQdq(plan): weight '${name}' is not a float initializer`);
    const qw = quantizeWeight(w.data, w.shape, axis, plan.options.reduceRange);
    const qName = g.fresh(`${name}_quantized`);
    const sName = g.fresh(`${name}_scale`);
    const zName = g.fresh(`${name}_zero_point`);
    const out = g.fresh(`${name}_dequantized`);
    const cdims = axis === undefined ? [] : [qw.scales.length];
    newInits.push(
      makeTensor(qName, DataType.INT8, w.shape, qw.data),
      floatTensor(sName, qw.scales, cdims),
      makeTensor(zName, DataType.INT8, cdims, new Int8Array(qw.scales.length)),
    );
    head.push(
      makeNode(
        'DequantizeLinear',
        g.fresh(`${name}_DequantizeLinear`),
        [qName, sName, zName],
        [out],
        axis === undefined ? {} : { axis },
      ),
    );
    floatBytes += w.data.byteLength;
    int8Bytes += qw.data.byteLength + qw.scales.byteLength * 2;
    const entry = { out, scales: qw.scales };
    weightDq.set(key, entry);
    return entry;
  };

  const i64 = new Map<string, string>();
  const int64 = (values: number[]): string => {
    const key = values.join(',');
    let name = i64.get(key);
    if (!name) {
      name = g.fresh(`qdq_const_${key.replace(/-/g, 'm').replace(/,/g, '_')}`);
      newInits.push(makeTensor(name, DataType.INT64, [values.length], new BigInt64Array(values.map(BigInt))));
      i64.set(key, name);
    }
    return name;
  };

  const rewrite = new Map<number, NodeProto[]>();
  const dropped = new Set<number>();
  const quantizedCounts: Record<string, number> = {};
  for (const np of plan.nodes) {
    const node = model.graph.node[np.index] as NodeProto;
    const input = [...node.input];
    for (const i of np.activationInputs) input[i] = dq.get(node.input[i] as string) as string;
    const wScales = new Map<string, Float32Array>();
    for (const w of np.weights) {
      const e = weightFor(w.name, w.axis);
      input[w.input] = e.out;
      wScales.set(w.name, e.scales);
    }
    if (np.bias) {
      const b = g.floatInitializer(np.bias.name) as { data: Float32Array; shape: number[] };
      const xs = (params.get(np.bias.activation) as ActivationParams).scale;
      const qb = quantizeBias(b.data, xs, wScales.get(np.bias.weight) as Float32Array);
      const qName = g.fresh(`${np.bias.name}_quantized`);
      const sName = g.fresh(`${np.bias.name}_scale`);
      const zName = g.fresh(`${np.bias.name}_zero_point`);
      const out = g.fresh(`${np.bias.name}_dequantized`);
      newInits.push(
        makeTensor(qName, DataType.INT32, b.shape, qb.data),
        floatTensor(sName, qb.scales, [qb.scales.length]),
        makeTensor(zName, DataType.INT32, [qb.scales.length], new Int32Array(qb.scales.length)),
      );
      head.push(
        makeNode('DequantizeLinear', g.fresh(`${np.bias.name}_DequantizeLinear`), [qName, sName, zName], [out], {
          axis: 0,
        }),
      );
      input[np.bias.input] = out;
    }
    const lin = np.gemmFromAdd;
    if (lin) {
      const gemmNodes = gemmRewrite(
        g,
        np.name,
        node.input[0] as string,
        input,
        lin,
        shapes.get(node.input[0] as string),
        int64,
      );
      rewrite.set(np.index, gemmNodes);
      dropped.add(lin.addIndex);
    } else rewrite.set(np.index, [{ ...node, input }]);
    const kind = lin ? 'MatMul+Add→Gemm' : np.opType;
    quantizedCounts[kind] = (quantizedCounts[kind] ?? 0) + 1;
  }

  const all = new Set(plan.rerouteAll);
  const nodes: NodeProto[] = [...head];
  model.graph.node.forEach((node, index) => {
    if (dropped.has(index)) return;
    for (let n of rewrite.get(index) ?? [node]) {
      if (n.input.some((i) => all.has(i)))
        n = { ...n, input: n.input.map((i) => (all.has(i) ? (dq.get(i) as string) : i)) };
      nodes.push(n);
      for (const o of n.output) nodes.push(...(qdqAfter.get(o) ?? []));
    }
  });

  const used = new Set<string>(model.graph.output.map((o) => o.name));
  for (const n of nodes) for (const i of n.input) used.add(i);
  const initializer = [...model.graph.initializer.filter((t) => used.has(t.name)), ...newInits];

  const summary: QdqSummary = {
    quantized: quantizedCounts,
    quantizedNodes: plan.nodes.map((n) => n.name),
    keptFloat: plan.skipped,
    activationTensors: plan.tensors.length,
    weightTensors: weightDq.size,
    weightBytes: { float: floatBytes, int8: int8Bytes },
    activations: Object.fromEntries(params),
  };
  const meta = {
    format: 'QDQ',
    activations: 'uint8 per-tensor asymmetric',
    weights: `int8 per-channel symmetric${plan.options.reduceRange ? ' (reduce range, 7-bit)' : ''}`,
    quantized: quantizedCounts,
    keptFloat: plan.skipped.length,
    ...metadata,
  };
  const metadataProps = [
    ...model.metadataProps.filter((e) => e.key !== QUANTIZATION_METADATA_KEY),
    { key: QUANTIZATION_METADATA_KEY, value: JSON.stringify(meta) },
  ];
  return { model: { ...model, graph: { ...model.graph, node: nodes, initializer }, metadataProps }, summary };
}

/** Float values of an inline float initializer of a decoded model (for tests and reports). */
export function initializerFloats(model: ModelProto, name: string): Float32Array {
  const t = model.graph.initializer.find((x) => x.name === name);
  if (!t) throw new QuantizeModelError(`initializerFloats(model, name): no initializer '${name}'`);
  return tensorFloats(t);
}

/**
 * `MatMul(A,W) + b` as `Gemm`: A of rank 2 → `Gemm` alone; otherwise `Reshape(A,[-1,K]) → Gemm →
 * Reshape` back to `A.shape[:-1] + [N]`, a constant shape when calibration saw at most one varying
 * leading axis (it becomes -1), else computed at run time (`Shape → Slice → Concat`).
 */
function gemmRewrite(
  g: ModelGraph,
  base: string,
  a: string,
  input: readonly string[],
  lin: { readonly output: string; readonly k: number; readonly n: number },
  seen: ObservedShape | undefined,
  int64: (values: number[]) => string,
): NodeProto[] {
  const [x, w, b] = input as [string, string, string];
  if (seen?.shape.length === 2 && !seen.varyingAxes.has(1))
    return [makeNode('Gemm', g.fresh(`${base}/Gemm`), [x, w, b], [lin.output])];
  const flat = g.fresh(`${base}_flat`);
  const gemmOut = g.fresh(`${base}_gemm`);
  const nodes = [
    makeNode('Reshape', g.fresh(`${base}/Reshape_in`), [x, int64([-1, lin.k])], [flat]),
    makeNode('Gemm', g.fresh(`${base}/Gemm`), [flat, w, b], [gemmOut]),
  ];
  const lead = seen ? seen.shape.slice(0, -1) : undefined;
  const varying = lead ? lead.filter((_, i) => seen?.varyingAxes.has(i)).length : Infinity;
  if (lead && varying <= 1 && !seen?.varyingAxes.has(lead.length) && lead.length >= 1) {
    const target = lead.map((d, i) => (seen?.varyingAxes.has(i) ? -1 : d));
    nodes.push(makeNode('Reshape', g.fresh(`${base}/Reshape_out`), [gemmOut, int64([...target, lin.n])], [lin.output]));
    return nodes;
  }
  const shape = g.fresh(`${base}_in_shape`);
  const leadDims = g.fresh(`${base}_lead_dims`);
  const outShape = g.fresh(`${base}_out_shape`);
  nodes.push(
    makeNode('Shape', g.fresh(`${base}/Shape`), [a], [shape]),
    makeNode('Slice', g.fresh(`${base}/Slice`), [shape, int64([0]), int64([-1])], [leadDims]),
    makeNode('Concat', g.fresh(`${base}/Concat`), [leadDims, int64([lin.n])], [outShape], { axis: 0 }),
    makeNode('Reshape', g.fresh(`${base}/Reshape_out`), [gemmOut, outShape], [lin.output]),
  );
  return nodes;
}
