/**
 * Which nodes of a float model get QuantizeLinear/DequantizeLinear pairs, and which activation
 * tensors therefore need a calibrated range.
 *
 * Quantizable ops and what is quantized (QDQ format, as onnxruntime fuses it on CPU):
 * - `MatMul`: the activation input(s) per tensor (uint8); a constant B `[..,K,N]` per output column
 *   (int8, axis = rank-1; a 1-D B per tensor). Output stays float: ORT fuses DQ·DQ→MatMul into
 *   `MatMulIntegerToFloat`. A MatMul of two activations (attention `q·kᵀ`, `p·v`) only with
 *   `activationMatMul`.
 *   A MatMul by a constant `[K,N]` whose only consumer is `Add` of a constant bias `[N]` (a linear
 *   layer) becomes `Reshape([-1,K]) → Gemm(DQ(A), DQ(W), DQ(int32 bias)) → Reshape(A.shape[:-1]+[N])`:
 *   onnxruntime's MatMulAddFusion (level 1) would otherwise turn the QDQ MatMul + Add into a FLOAT
 *   Gemm before its QDQ fusions run (measured with ORT 1.30); the explicit Gemm fuses into `QGemm`
 *   with a float output instead.
 * - `Gemm`: A per tensor; constant B per output column (axis 0 when `transB=1` (`[N,K]`), else 1);
 *   a constant 1-D bias C (alpha = beta = 1) as int32.
 * - `Conv`: X per tensor; constant W `[O,I/g,kh,kw]` per output channel (axis 0); bias int32 with
 *   scale `xScale·wScale[o]`; the output is quantized too (Q→DQ right after the Conv), the pattern
 *   ORT needs for `QLinearConv`.
 * - `ConvTranspose`: like Conv with W `[I,O/g,kh,kw]` per output channel (axis 1).
 * Everything else (Softmax, LayerNormalization, GELU's Erf, Resize, Add, the mask post-processing)
 * stays float. Nodes can be kept float by name (`exclude`).
 */
import { DataType } from '@samtune/onnx';
import type { ModelProto, NodeProto } from '@samtune/onnx';
import { floatAttr, intAttr, ModelGraph } from './model-graph.js';

/** Op types the quantizer can handle. */
export type QuantizableOp = 'MatMul' | 'Gemm' | 'Conv' | 'ConvTranspose';

/** Default op types. */
export const DEFAULT_QUANT_OPS: readonly QuantizableOp[] = ['MatMul', 'Gemm', 'Conv'];

export interface QdqOptions {
  /** Op types to quantize. Default `DEFAULT_QUANT_OPS` (MatMul, Gemm, Conv). */
  readonly opTypes?: readonly QuantizableOp[];
  /**
   * Nodes kept float, matched against the node name AND the names of its constant inputs (weights
   * carry the checkpoint key, e.g. `mask_decoder.iou_prediction_head.layers.0.weight.T`): a string
   * matches a name exactly or as a prefix ending at `/` or `.` (`'mask_decoder.iou_prediction_head'`,
   * `'image_encoder/layers'`); a RegExp is tested against each name.
   */
  readonly exclude?: readonly (string | RegExp)[];
  /** Also quantize MatMuls whose inputs are both activations (attention). Default false. */
  readonly activationMatMul?: boolean;
  /** 7-bit weights ([-63,63]) for CPUs without VNNI (u8·s8 int16 saturation). Default false. */
  readonly reduceRange?: boolean;
  /** Nodes kept float by name, with the reason reported (e.g. set after calibration). */
  readonly keepFloat?: ReadonlyMap<string, string>;
}

/** A constant input quantized to int8. */
export interface WeightPlan {
  readonly input: number;
  readonly name: string;
  /** Channel axis, undefined = per tensor. */
  readonly axis: number | undefined;
}

/** How one node is quantized. */
export interface NodePlan {
  /** Index in `graph.node`. */
  readonly index: number;
  readonly name: string;
  readonly opType: QuantizableOp;
  /** Input slots read through an activation Q/DQ pair. */
  readonly activationInputs: readonly number[];
  readonly weights: readonly WeightPlan[];
  /** A constant bias quantized to int32 with `scale(activation) * scale(weight)`. */
  readonly bias?: {
    readonly input: number;
    readonly name: string;
    readonly activation: string;
    readonly weight: string;
  };
  /** Output tensor quantized right after the node (Conv, ConvTranspose). */
  readonly output?: string;
  /** MatMul + bias Add rewritten as Gemm: the Add's index (dropped) and output (the Gemm's result). */
  readonly gemmFromAdd?: { readonly addIndex: number; readonly output: string; readonly k: number; readonly n: number };
}

/** A quantizable node left in float, and why. */
export interface SkippedNode {
  readonly name: string;
  readonly opType: string;
  readonly reason: string;
}

export interface QdqPlan {
  readonly nodes: readonly NodePlan[];
  readonly skipped: readonly SkippedNode[];
  /** Activation tensors that need a range, in graph order. */
  readonly tensors: readonly string[];
  /** Tensors whose every consumer reads the dequantized value (quantized outputs). */
  readonly rerouteAll: readonly string[];
  readonly options: Required<Pick<QdqOptions, 'activationMatMul' | 'reduceRange'>> & {
    readonly opTypes: readonly QuantizableOp[];
  };
}

/** The name used for a node in plans and reports (`<opType>_<index>` when unnamed). */
export function nodeLabel(node: NodeProto, index: number): string {
  return node.name && node.name.length > 0 ? node.name : `${node.opType}_${index}`;
}

/** Whether any of `names` is matched by an `exclude` entry (see `QdqOptions.exclude`). */
export function isExcluded(names: readonly string[], exclude: readonly (string | RegExp)[]): boolean {
  return exclude.some((e) =>
    names.some((name) =>
      typeof e === 'string' ? name === e || name.startsWith(`${e}/`) || name.startsWith(`${e}.`) : e.test(name),
    ),
  );
}

/** Plans the QDQ insertion (see the module comment). Pure: the model is not modified. */
export function planQdq(model: ModelProto, options: QdqOptions = {}): QdqPlan {
  const g = new ModelGraph(model);
  const opTypes = options.opTypes ?? DEFAULT_QUANT_OPS;
  const exclude = options.exclude ?? [];
  const activationMatMul = options.activationMatMul ?? false;
  const floatInputs = new Set(model.graph.input.filter((v) => v.elemType === DataType.FLOAT).map((v) => v.name));
  const isFloatActivation = (name: string): boolean =>
    g.isActivation(name) && (!g.graphInputs.has(name) || floatInputs.has(name));
  const floatConst = (name: string): number[] | undefined => {
    const t = g.initializers.get(name);
    return t && t.dataType === DataType.FLOAT ? [...t.dims] : undefined;
  };

  const nodes: NodePlan[] = [];
  const skipped: SkippedNode[] = [];
  const tensors: string[] = [];
  const rerouteAll: string[] = [];
  const need = (t: string): void => {
    if (!tensors.includes(t)) tensors.push(t);
  };

  model.graph.node.forEach((node, index) => {
    const opType = node.opType as QuantizableOp;
    if ((node.domain ?? '') !== '' || !opTypes.includes(opType)) return;
    const name = nodeLabel(node, index);
    const skip = (reason: string): void => void skipped.push({ name, opType, reason });
    const kept = options.keepFloat?.get(name);
    if (kept) return skip(kept);
    if (isExcluded([name, ...node.input.filter((i) => g.initializers.has(i))], exclude))
      return skip('excluded by name');
    const [a = '', b = '', c = ''] = node.input;

    if (opType === 'MatMul') {
      const aShape = floatConst(a);
      const bShape = floatConst(b);
      if (aShape && bShape) return skip('both inputs are constants');
      if (!aShape && !isFloatActivation(a)) return skip(`input '${a}' is not a float tensor`);
      if (!bShape && !isFloatActivation(b)) return skip(`input '${b}' is not a float tensor`);
      if (!aShape && !bShape && !activationMatMul) return skip('both inputs are activations (enable activationMatMul)');
      const weights: WeightPlan[] = [];
      const acts: number[] = [];
      if (aShape) weights.push({ input: 0, name: a, axis: undefined });
      else acts.push(0);
      if (bShape) weights.push({ input: 1, name: b, axis: bShape.length >= 2 ? bShape.length - 1 : undefined });
      else acts.push(1);
      for (const i of acts) need(node.input[i] as string);
      const linear = !aShape && bShape?.length === 2 ? biasAdd(g, node, bShape[1] as number, floatConst) : undefined;
      if (linear) {
        const [k, n] = bShape as [number, number];
        nodes.push({
          index,
          name,
          opType,
          activationInputs: acts,
          weights,
          bias: { input: 2, name: linear.bias, activation: a, weight: b },
          gemmFromAdd: { addIndex: linear.index, output: linear.output, k, n },
        });
      } else nodes.push({ index, name, opType, activationInputs: acts, weights });
      return;
    }

    // Gemm, Conv, ConvTranspose: activation X/A in slot 0, constant weight in slot 1, optional bias in slot 2.
    if (!isFloatActivation(a)) return skip(`input '${a}' is not a float activation`);
    const wShape = floatConst(b);
    if (!wShape) return skip(`weight '${b}' is not a float initializer`);
    let axis: number;
    let biasOk = c !== '' && floatConst(c)?.length === 1;
    if (opType === 'Gemm') {
      if (intAttr(node, 'transA', 0) !== 0 && wShape.length !== 2) return skip('unsupported Gemm shapes');
      axis = intAttr(node, 'transB', 0) === 1 ? 0 : 1;
      biasOk =
        biasOk &&
        floatAttr(node, 'alpha', 1) === 1 &&
        floatAttr(node, 'beta', 1) === 1 &&
        floatConst(c)?.[0] === wShape[axis];
    } else {
      if (wShape.length < 3) return skip(`weight '${b}' has rank ${wShape.length}, expected >= 3`);
      axis = opType === 'Conv' ? 0 : 1;
      if (opType === 'ConvTranspose' && intAttr(node, 'group', 1) !== 1)
        return skip('grouped ConvTranspose (per-channel axis spans groups)');
    }
    need(a);
    const plan: NodePlan = {
      index,
      name,
      opType,
      activationInputs: [0],
      weights: [{ input: 1, name: b, axis }],
      ...(biasOk ? { bias: { input: 2, name: c, activation: a, weight: b } } : {}),
    };
    const out = node.output[0] as string;
    if (opType !== 'Gemm' && !g.graphOutputs.has(out)) {
      need(out);
      if (!rerouteAll.includes(out)) rerouteAll.push(out);
      nodes.push({ ...plan, output: out });
    } else nodes.push(plan);
  });
  return {
    nodes,
    skipped,
    tensors,
    rerouteAll,
    options: { opTypes, activationMatMul, reduceRange: options.reduceRange ?? false },
  };
}

/** The `Add` of a constant bias `[n]` that is the only consumer of a MatMul's output, if any. */
function biasAdd(
  g: ModelGraph,
  node: NodeProto,
  n: number,
  floatConst: (name: string) => number[] | undefined,
): { index: number; bias: string; output: string } | undefined {
  const out = node.output[0] as string;
  const consumers = g.consumers.get(out) ?? [];
  const add = consumers[0];
  if (consumers.length !== 1 || !add || add.opType !== 'Add' || (add.domain ?? '') !== '' || g.graphOutputs.has(out))
    return undefined;
  const [x, y] = add.input as [string, string];
  const bias = x === out ? y : x;
  if (bias === out) return undefined;
  const dims = floatConst(bias);
  if (!dims || dims.length !== 1 || dims[0] !== n) return undefined;
  return { index: g.model.graph.node.indexOf(add), bias, output: add.output[0] as string };
}
