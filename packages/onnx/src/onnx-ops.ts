/**
 * `Ops` that records an ONNX graph (opset 17) instead of computing: SAM's layers, written once
 * against `Ops`, become ONNX models built from the loaded weights, run by onnxruntime-node.
 *
 * Values are `{ name, shape }` with static shapes (`-1` = dynamic). Weights become initializers
 * named by their checkpoint key, added on first use; 2-D weights used by `linear`/`matmul(…, true)`
 * are transposed at build time into `<key>.T` initializers, so MatMul reads a plain initializer
 * (the unused original is dropped when the model is written).
 */
import type { HostTensor, FloatTensor } from '@samtune/tensor';
import { numel, toFloat32 } from '@samtune/tensor';
import type { Conv2dOptions, TrainOps } from '@samtune/tensor';
import { MissingWeightError } from '@samtune/tensor';
import type { AttrValue, OnnxElemType } from './graph.js';
import type { OnnxOpType } from './op-types.js';
import { OnnxGraphBuilder } from './graph.js';
import {
  OnnxShapeError,
  broadcastShapes,
  concatShape,
  convOut,
  matmulShape,
  normAxis,
  reshapeTarget,
  sliceLength,
} from './shape-infer.js';

/** A value in the recorded graph: its ONNX name and static shape (`-1` for dynamic dims). */
export interface OnnxValue {
  readonly name: string;
  readonly shape: readonly number[];
}

const fmt = (s: readonly number[]): string => `[${s.join(',')}]`;

/** Options of `OnnxGraphOps`. */
export interface OnnxGraphOpsOptions {
  /**
   * Transpose 2-D weights used by `linear`/`matmul(…, true)` at build time into `<key>.T`
   * initializers (default true, the fastest inference graph). False records a `Transpose` node of
   * the weight instead, so the weight itself is what the graph reads: needed when it is trained
   * (its gradient, `buildGradientGraph`) or fed as an input.
   */
  readonly transposeWeightsAtBuild?: boolean;
  /**
   * Weights that `param(key)` declares as float32 graph inputs named `key` (shape from the weight
   * map) instead of initializers: `true` for all, or a predicate. For training graphs whose weights
   * are fed and updated each step. Default none. Such weights are never transposed at build time.
   */
  readonly paramsAsInputs?: boolean | ((key: string) => boolean);
  /**
   * Record `linear` with a bias on `[..., N, in]` inputs (rank >= 3) as one `Gemm` (`transB`) on the
   * rows flattened to 2-D, so the bias add is fused into the GEMM (onnxruntime only fuses MatMul +
   * Add into Gemm for 2-D inputs). Default false: MatMul + Add, the form dynamic INT8 quantization
   * (`MatMulInteger`) and other runtimes expect.
   */
  readonly gemmLinear?: boolean;
  /**
   * Record `gelu` as onnxruntime's fused `com.microsoft` `Gelu` kernel (one pass) instead of the erf
   * pattern (Div, Erf, Add, Mul, Mul), which onnxruntime cannot fuse where the backward reads the
   * intermediates. onnxruntime only; default false.
   */
  readonly fusedGelu?: boolean;
}

export class OnnxGraphOps implements TrainOps<OnnxValue> {
  readonly kind = 'onnx';
  private readonly params = new Map<string, OnnxValue>();
  private readonly hostParams = new Map<string, FloatTensor>();
  private readonly transposed = new Map<string, OnnxValue>();
  private readonly scalars = new Map<number, string>();
  private readonly int64s = new Map<string, string>();
  private readonly scopes: string[] = [];

  /**
   * @param weights checkpoint tensors by key (non-float32 ones are converted on first use).
   * @param builder the graph to record into (default: a new opset-17 graph).
   */
  constructor(
    private readonly weights: ReadonlyMap<string, HostTensor>,
    readonly builder: OnnxGraphBuilder = new OnnxGraphBuilder(),
    private readonly options: OnnxGraphOpsOptions = {},
  ) {}

  /** Declares a float32 (default) graph input; string dims are symbolic/dynamic (shape `-1` here). */
  input(name: string, shape: readonly (number | string)[], elemType: OnnxElemType = 'float32'): OnnxValue {
    this.builder.addInput(name, shape, elemType);
    return { name, shape: shape.map((d) => (typeof d === 'number' ? d : -1)) };
  }

  /**
   * Declares `value` as graph output `name` (an Identity renames it if needed). `shape` overrides
   * the declared shape (e.g. symbolic names for dynamic dims); by default dynamic dims are unnamed.
   */
  output(name: string, value: OnnxValue, shape?: readonly (number | string | null)[]): void {
    if (value.name !== name) {
      this.builder.addNode('Identity', [value.name], {}, { outputs: [name], name: `${name}_identity` });
      this.builder.setValueShape(name, value.shape);
    }
    this.builder.addOutput(name, shape ?? value.shape.map((d) => (d < 0 ? null : d)));
  }

  /** Runs `fn` with node names prefixed by `scope/` (readable graphs and profiles). */
  scoped<R>(scope: string, fn: () => R): R {
    this.scopes.push(scope);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /** Records one single-output node with the given output shape (for ops outside `Ops`). */
  emit(
    opType: OnnxOpType,
    inputs: readonly (OnnxValue | string)[],
    shape: readonly number[],
    attrs: Readonly<Record<string, AttrValue>> = {},
    domain?: string,
  ): OnnxValue {
    const name = this.scopes.length > 0 ? `${this.scopes.join('/')}/${opType}` : opType;
    const ins = inputs.map((v) => (typeof v === 'string' ? v : v.name));
    const [out] = this.builder.addNode(opType, ins, attrs, { name, ...(domain ? { domain } : {}) });
    this.builder.setValueShape(out as string, shape);
    return { name: out as string, shape: [...shape] };
  }

  /** An int64 1-D constant (cached by value). */
  int64Const(values: readonly number[]): string {
    const key = values.join(',');
    let name = this.int64s.get(key);
    if (!name) {
      name = this.builder.addInt64Constant(values, 'i64');
      this.int64s.set(key, name);
    }
    return name;
  }

  private scalar(v: number): string {
    let name = this.scalars.get(v);
    if (!name) {
      name = this.builder.addFloatConstant(new Float32Array([v]), [], 'scalar');
      this.scalars.set(v, name);
    }
    return name;
  }

  param(key: string): OnnxValue {
    const cached = this.params.get(key);
    if (cached) return cached;
    const w = this.weights.get(key);
    if (!w) throw new MissingWeightError(this.kind, key);
    const asInput = this.options.paramsAsInputs;
    if (asInput === true || (typeof asInput === 'function' && asInput(key))) {
      const v = this.input(key, w.shape);
      this.params.set(key, v);
      return v;
    }
    const t = toFloat32(w);
    this.builder.addInitializer(key, t);
    const v = { name: key, shape: [...t.shape] };
    this.params.set(key, v);
    this.hostParams.set(key, t);
    return v;
  }

  hasParam(key: string): boolean {
    return this.weights.has(key);
  }

  constant(data: Float32Array, shape: readonly number[], name = 'const'): OnnxValue {
    return { name: this.builder.addFloatConstant(data, shape, name), shape: [...shape] };
  }

  shape(x: OnnxValue): number[] {
    return [...x.shape];
  }

  private binary(op: 'Add' | 'Sub' | 'Mul' | 'Div', a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.emit(op, [a, b], broadcastShapes(op.toLowerCase(), a.shape, b.shape));
  }
  add(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.binary('Add', a, b);
  }
  sub(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.binary('Sub', a, b);
  }
  mul(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.binary('Mul', a, b);
  }
  div(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.binary('Div', a, b);
  }
  scale(x: OnnxValue, s: number): OnnxValue {
    return this.emit('Mul', [x, this.scalar(s)], x.shape);
  }
  addScalar(x: OnnxValue, s: number): OnnxValue {
    return this.emit('Add', [x, this.scalar(s)], x.shape);
  }
  softplus(x: OnnxValue): OnnxValue {
    return this.emit('Softplus', [x], x.shape);
  }
  sqrt(x: OnnxValue): OnnxValue {
    return this.emit('Sqrt', [x], x.shape);
  }
  powScalar(x: OnnxValue, e: number): OnnxValue {
    return e === 2 ? this.mul(x, x) : this.emit('Pow', [x, this.scalar(e)], x.shape);
  }
  sum(x: OnnxValue, axis: number): OnnxValue {
    const ax = axis < 0 ? axis + x.shape.length : axis;
    const shape = x.shape.filter((_, i) => i !== ax);
    return this.emit('ReduceSum', [x, this.int64Const([ax])], shape, { keepdims: 0 });
  }
  mean(x: OnnxValue, axes: readonly number[]): OnnxValue {
    const ax = axes.map((a) => (a < 0 ? a + x.shape.length : a));
    const shape = x.shape.filter((_, i) => !ax.includes(i));
    // opset 17: ReduceMean takes its axes as an attribute
    return this.emit('ReduceMean', [x], shape, { axes: ax, keepdims: 0 });
  }
  greaterEqualScalar(x: OnnxValue, value: number): OnnxValue {
    return this.emit('Cast', [this.emit('GreaterOrEqual', [x, this.scalar(value)], x.shape)], x.shape, { to: 1 });
  }
  argMinOneHot(x: OnnxValue): OnnxValue {
    const axis = x.shape.length - 1;
    const m = x.shape[axis] as number;
    const idx = this.emit('ArgMin', [x], [...x.shape.slice(0, -1), 1], { axis, keepdims: 1, select_last_index: 0 });
    const range = { name: this.builder.addInt64Constant([...Array(m).keys()], 'index_range', [m]), shape: [m] };
    return this.emit('Cast', [this.emit('Equal', [idx, range], x.shape)], x.shape, { to: 1 });
  }
  equalScalar(x: OnnxValue, value: number): OnnxValue {
    const eq = this.emit('Equal', [x, this.scalar(value)], x.shape);
    return this.emit('Cast', [eq], x.shape, { to: 1 });
  }

  /** `w` with its last two axes swapped: a build-time `<key>.T` initializer for 2-D weights, else a Transpose node. */
  private transposeLast2(w: OnnxValue): OnnxValue {
    const host = this.hostParams.get(w.name);
    if (host && host.shape.length === 2 && this.options.transposeWeightsAtBuild !== false) {
      const cached = this.transposed.get(w.name);
      if (cached) return cached;
      const [r, c] = host.shape as [number, number];
      const out = new Float32Array(r * c);
      const src = host.data;
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = src[i * c + j] as number;
      const name = this.builder.hasName(`${w.name}.T`) ? this.builder.uniqueName(`${w.name}.T`) : `${w.name}.T`;
      const v = {
        name: this.builder.addInitializer(name, { dtype: 'float32', shape: [c, r], data: out }),
        shape: [c, r],
      };
      this.transposed.set(w.name, v);
      return v;
    }
    const rank = w.shape.length;
    const perm = [...Array(rank).keys()];
    perm[rank - 2] = rank - 1;
    perm[rank - 1] = rank - 2;
    return this.transpose(w, perm);
  }

  matmul(a: OnnxValue, b: OnnxValue, transposeB = false): OnnxValue {
    const shape = matmulShape(a.shape, b.shape, transposeB);
    return this.emit('MatMul', [a, transposeB ? this.transposeLast2(b) : b], shape);
  }

  linear(x: OnnxValue, weight: OnnxValue, bias?: OnnxValue): OnnxValue {
    const [out, inDim] = weight.shape as [number, number];
    const xin = x.shape[x.shape.length - 1];
    if (weight.shape.length !== 2 || (xin !== inDim && xin !== -1)) {
      throw new OnnxShapeError(
        `OnnxGraphOps.linear(x, weight): needs weight [out, in=${xin}], got ${fmt(weight.shape)} for x ${fmt(x.shape)}`,
      );
    }
    const shape = [...x.shape.slice(0, -1), out];
    const lead = x.shape.slice(0, -1);
    if (bias && this.options.gemmLinear && lead.length >= 2 && lead.filter((d) => d < 0).length <= 1) {
      const rows = lead.includes(-1) ? -1 : numel(lead);
      const y2 = this.emit('Gemm', [this.reshape(x, [rows, inDim]), weight, bias], [rows, out], { transB: 1 });
      return this.reshape(y2, shape);
    }
    const y = this.emit('MatMul', [x, this.transposeLast2(weight)], shape);
    return bias ? this.emit('Add', [y, bias], shape) : y;
  }

  conv2d(x: OnnxValue, weight: OnnxValue, bias: OnnxValue | undefined, opts: Conv2dOptions = {}): OnnxValue {
    const { stride = 1, pad = 0, groups = 1 } = opts;
    const [b, cin, h, w] = x.shape as [number, number, number, number];
    const [cout, wcin, kh, kw] = weight.shape as [number, number, number, number];
    if (x.shape.length !== 4 || weight.shape.length !== 4 || (cin !== -1 && wcin * groups !== cin)) {
      throw new OnnxShapeError(
        `OnnxGraphOps.conv2d(x, weight): needs x [B,Cin,H,W] and weight [Cout,Cin/groups=${cin}/${groups},kh,kw], got x ${fmt(x.shape)}, weight ${fmt(weight.shape)}`,
      );
    }
    const attrs = {
      kernel_shape: [kh, kw],
      strides: [stride, stride],
      pads: [pad, pad, pad, pad],
      group: groups,
      dilations: [1, 1],
    };
    const shape = [b, cout, convOut(h, kh, stride, pad), convOut(w, kw, stride, pad)];
    return this.emit('Conv', bias ? [x, weight, bias] : [x, weight], shape, attrs);
  }

  convTranspose2d(x: OnnxValue, weight: OnnxValue, bias: OnnxValue | undefined, stride: number): OnnxValue {
    const [b, cin, h, w] = x.shape as [number, number, number, number];
    const [wcin, cout, kh, kw] = weight.shape as [number, number, number, number];
    if (x.shape.length !== 4 || (wcin !== cin && cin !== -1) || kh !== stride || kw !== stride) {
      throw new OnnxShapeError(
        `OnnxGraphOps.convTranspose2d(x, weight): needs weight [Cin=${cin},Cout,k=${stride},k=${stride}], got ${fmt(weight.shape)} for x ${fmt(x.shape)}`,
      );
    }
    const shape = [b, cout, h < 0 ? -1 : h * stride, w < 0 ? -1 : w * stride];
    const attrs = { kernel_shape: [kh, kw], strides: [stride, stride] };
    return this.emit('ConvTranspose', bias ? [x, weight, bias] : [x, weight], shape, attrs);
  }

  reshape(x: OnnxValue, shape: readonly number[]): OnnxValue {
    const t = reshapeTarget(x.shape, shape);
    return this.emit('Reshape', [x, this.int64Const(t.onnx)], t.shape);
  }

  transpose(x: OnnxValue, perm: readonly number[]): OnnxValue {
    if (perm.length !== x.shape.length || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
      throw new OnnxShapeError(
        `OnnxGraphOps.transpose(x, perm): perm [${perm.join(',')}] is not a permutation of rank ${x.shape.length} (x ${fmt(x.shape)})`,
      );
    }
    return this.emit(
      'Transpose',
      [x],
      perm.map((p) => x.shape[p] as number),
      { perm: [...perm] },
    );
  }

  concat(xs: readonly OnnxValue[], axis: number): OnnxValue {
    const shape = concatShape(
      xs.map((v) => v.shape),
      axis,
    );
    return this.emit('Concat', xs, shape, { axis });
  }

  slice(x: OnnxValue, axis: number, start: number, end: number): OnnxValue {
    const ax = normAxis('slice', axis, x.shape.length);
    const shape = [...x.shape];
    shape[ax] = sliceLength(x.shape[ax] as number, start, end);
    return this.emit('Slice', [x, this.int64Const([start]), this.int64Const([end]), this.int64Const([ax])], shape);
  }

  pad(x: OnnxValue, pads: readonly (readonly [number, number])[]): OnnxValue {
    if (pads.length !== x.shape.length) {
      throw new OnnxShapeError(
        `OnnxGraphOps.pad(x, pads): needs one [before, after] per axis (${x.shape.length}), got ${pads.length}`,
      );
    }
    const onnxPads = [...pads.map((p) => p[0]), ...pads.map((p) => p[1])];
    const shape = x.shape.map((d, i) => (d < 0 ? -1 : d + (pads[i]?.[0] ?? 0) + (pads[i]?.[1] ?? 0)));
    return this.emit('Pad', [x, this.int64Const(onnxPads)], shape, { mode: 'constant' });
  }

  softmax(x: OnnxValue): OnnxValue {
    return this.emit('Softmax', [x], x.shape, { axis: -1 });
  }

  layerNorm(x: OnnxValue, weight: OnnxValue, bias: OnnxValue, eps: number): OnnxValue {
    return this.emit('LayerNormalization', [x, weight, bias], x.shape, { axis: -1, epsilon: { f: eps } });
  }

  gelu(x: OnnxValue): OnnxValue {
    if (this.options.fusedGelu) return this.emit('Gelu', [x], x.shape, {}, 'com.microsoft');
    // the erf pattern torch exports; onnxruntime fuses it into one Gelu kernel
    const e = this.emit('Erf', [this.emit('Div', [x, this.scalar(Math.SQRT2)], x.shape)], x.shape);
    const h = this.emit('Mul', [x, this.emit('Add', [e, this.scalar(1)], x.shape)], x.shape);
    return this.emit('Mul', [h, this.scalar(0.5)], x.shape);
  }
  relu(x: OnnxValue): OnnxValue {
    return this.emit('Relu', [x], x.shape);
  }
  sigmoid(x: OnnxValue): OnnxValue {
    return this.emit('Sigmoid', [x], x.shape);
  }
  sin(x: OnnxValue): OnnxValue {
    return this.emit('Sin', [x], x.shape);
  }
  cos(x: OnnxValue): OnnxValue {
    return this.emit('Cos', [x], x.shape);
  }

  resizeBilinear(x: OnnxValue, size: readonly [number, number]): OnnxValue {
    if (x.shape.length !== 4)
      throw new OnnxShapeError(`OnnxGraphOps.resizeBilinear(x): needs x [B,C,H,W], got ${fmt(x.shape)}`);
    const [b, c] = x.shape as [number, number];
    let sizes: string;
    if (b >= 0 && c >= 0) sizes = this.int64Const([b, c, size[0], size[1]]);
    else {
      const bc = this.emit('Shape', [x], [2], { start: 0, end: 2 });
      sizes = this.emit('Concat', [bc.name, this.int64Const([size[0], size[1]])], [4], { axis: 0 }).name;
    }
    // torch bilinear, align_corners=False, no antialias: half-pixel centres, 2-tap linear
    const attrs = { mode: 'linear', coordinate_transformation_mode: 'half_pixel' };
    return this.emit('Resize', [x.name, '', '', sizes], [b, c, size[0], size[1]], attrs);
  }
}
