/**
 * `GradContext`: what a gradient rule sees while the backward pass is appended to a graph. It emits
 * nodes into the forward graph's builder (recording each new value's static shape), reads static
 * shapes and constant (initializer / `Constant`) values, and has the broadcasting helper `sumTo`.
 */
import type { OnnxOpType } from '../op-types.js';
import { numel } from '@samtune/tensor';
import type { OnnxGraphBuilder } from '../graph.js';
import type { AttrValue } from '../graph.js';
import type { AttributeProto, NodeProto, TensorProto } from '../proto.js';
import { DataType } from '../proto.js';
import { tensorFloats, tensorInt64s } from '../proto-reader.js';
import { GradientGraphError, UnsupportedGradientError } from './errors.js';

const fmt = (s: readonly number[]): string => `[${s.join(',')}]`;

/** Ops whose output has the shape of their first input (used when a shape was not recorded). */
const SAME_SHAPE = new Set([
  'Identity',
  'Cast',
  'Relu',
  'Sigmoid',
  'Tanh',
  'Erf',
  'Exp',
  'Log',
  'Neg',
  'Abs',
  'Sqrt',
  'Sin',
  'Cos',
  'Softmax',
  'LogSoftmax',
  'LayerNormalization',
  'Reciprocal',
  'Softplus',
  'Sign',
  'Floor',
  'Ceil',
  'Clip',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Where', 'Sum', 'Equal', 'Less', 'Greater']);

/** numpy broadcast of static shapes. */
export function broadcast(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[i - rank + a.length] ?? 1;
    const db = b[i - rank + b.length] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new GradientGraphError(`broadcast(a, b): shapes ${fmt(a)} and ${fmt(b)} do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** A node attribute by name (undefined when absent). */
export function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}
export function attrInt(node: NodeProto, name: string, dflt: number): number {
  return attr(node, name)?.i ?? dflt;
}
export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = attr(node, name);
  return a ? [...(a.ints ?? [])] : undefined;
}
export function attrFloat(node: NodeProto, name: string, dflt: number): number {
  return attr(node, name)?.f ?? dflt;
}

export class GradContext {
  private readonly producers = new Map<string, NodeProto>();
  private readonly floatScalars = new Map<number, string>();
  private readonly ints = new Map<string, string>();
  private readonly ones = new Map<string, string>();
  /** Name of the forward node whose rule is running (prefix of emitted node names). */
  current = '';

  constructor(readonly builder: OnnxGraphBuilder) {
    for (const n of builder.listNodes()) for (const o of n.output) if (o) this.producers.set(o, n);
  }

  /** The node that produces `name`, if any (undefined for inputs and initializers). */
  producer(name: string): NodeProto | undefined {
    return this.producers.get(name);
  }

  /** Whether `x` is the output of a Transpose that swaps exactly its last two axes. */
  isLast2Swap(x: string): boolean {
    const p = this.producers.get(x);
    if (p?.opType !== 'Transpose' || p.domain) return false;
    const rank = this.shape(x).length;
    const perm = attrInts(p, 'perm') ?? [...Array(rank).keys()].reverse();
    const want = [...Array(rank).keys()];
    want[rank - 2] = rank - 1;
    want[rank - 1] = rank - 2;
    return rank >= 2 && perm.every((q, i) => q === want[i]);
  }

  /** Static shape of a value, or undefined when it is unknown or has a dynamic dim. */
  tryShape(name: string): number[] | undefined {
    let s = this.builder.valueShape(name);
    if (!s) {
      const n = this.producers.get(name);
      if (n && n.output[0] === name && SAME_SHAPE.has(n.opType) && n.input[0]) s = this.tryShape(n.input[0]);
      else if (n && BROADCAST.has(n.opType)) {
        const ins = n.input.filter((i) => i !== '').map((i) => this.tryShape(i));
        if (ins.every((x) => x !== undefined)) s = ins.reduce<number[]>((a, b) => broadcast(a, b as number[]), []);
      }
      if (s) this.builder.setValueShape(name, s);
    }
    return s && s.every((d) => d >= 0) ? s : undefined;
  }

  /** Static shape of a value; throws `GradientGraphError` when unknown or dynamic. */
  shape(name: string): number[] {
    const s = this.tryShape(name);
    if (!s) {
      const known = this.builder.valueShape(name);
      throw new GradientGraphError(
        `buildGradientGraph(): value '${name}' (used by node '${this.current}') needs a static shape, got ${known ? fmt(known) : 'none recorded'}; record the graph with OnnxGraphOps and static shapes, or call builder.setValueShape`,
      );
    }
    return s;
  }

  /** The constant tensor behind `name` (an initializer or a `Constant` node's value), if it is one. */
  constTensor(name: string): TensorProto | undefined {
    const init = this.builder.getInitializer(name);
    if (init) return init;
    const n = this.producers.get(name);
    if (n?.opType === 'Constant') return attr(n, 'value')?.t;
    return undefined;
  }

  /** Integer values of a constant input (Slice starts, Reshape shape, axes); throws if not constant. */
  constInts(name: string, what: string): number[] {
    const t = this.constTensor(name);
    if (!t || (t.dataType !== DataType.INT64 && t.dataType !== DataType.INT32)) {
      throw new UnsupportedGradientError(
        `buildGradientGraph(): node '${this.current}' needs ${what} ('${name}') to be a constant int64 initializer, got ${t ? `data type ${t.dataType}` : 'a computed value'}`,
      );
    }
    if (t.dataType === DataType.INT64) return tensorInt64s(t);
    const raw = t.rawData ?? new Uint8Array(0);
    return [...new Int32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))];
  }

  /** Float values of a constant input, or undefined when it is computed. */
  constFloats(name: string): Float32Array | undefined {
    const t = this.constTensor(name);
    return t && t.dataType === DataType.FLOAT ? tensorFloats(t) : undefined;
  }

  /** Emits one node; records `shape` for its (first) output. Returns the output name. */
  op(
    opType: OnnxOpType,
    inputs: readonly string[],
    shape: readonly number[],
    attrs: Record<string, AttrValue> = {},
  ): string {
    return this.opN(opType, inputs, [shape], attrs)[0] as string;
  }

  /** Emits a node with several outputs, recording their shapes. */
  opN(
    opType: OnnxOpType,
    inputs: readonly string[],
    shapes: readonly (readonly number[])[],
    attrs: Record<string, AttrValue> = {},
  ): string[] {
    const outs = this.builder.addNode(opType, inputs, attrs, {
      name: `grad/${this.current}/${opType}`,
      outputs: shapes.length,
    });
    outs.forEach((o, i) => this.builder.setValueShape(o, shapes[i] as readonly number[]));
    const nodes = this.builder.listNodes();
    const node = nodes[nodes.length - 1] as NodeProto;
    for (const o of outs) this.producers.set(o, node);
    return outs;
  }

  /** A float32 scalar constant `[]` (cached). */
  scalar(v: number): string {
    let n = this.floatScalars.get(v);
    if (!n) {
      n = this.builder.addFloatConstant(new Float32Array([v]), [], 'grad_scalar');
      this.floatScalars.set(v, n);
    }
    return n;
  }

  /** A float32 tensor of ones of this shape (cached per shape). */
  onesOf(shape: readonly number[]): string {
    const key = shape.join(',');
    let n = this.ones.get(key);
    if (!n) {
      n = this.builder.addFloatConstant(new Float32Array(numel(shape)).fill(1), shape, 'grad_ones');
      this.ones.set(key, n);
    }
    return n;
  }

  /** A 1-D int64 constant (cached by value). */
  int64(values: readonly number[]): string {
    const key = values.join(',');
    let n = this.ints.get(key);
    if (!n) {
      n = this.builder.addInt64Constant(values, 'grad_i64');
      this.ints.set(key, n);
    }
    return n;
  }

  /** Zeros of a static shape (`ConstantOfShape`). */
  zeros(shape: readonly number[]): string {
    const value = { name: 'value', dims: [1], dataType: DataType.FLOAT, rawData: new Uint8Array(4) };
    return this.op('ConstantOfShape', [this.int64([...shape])], shape, { value: { t: value } });
  }

  mul(a: string, b: string): string {
    return this.op('Mul', [a, b], broadcast(this.shape(a), this.shape(b)));
  }
  div(a: string, b: string): string {
    return this.op('Div', [a, b], broadcast(this.shape(a), this.shape(b)));
  }
  add(a: string, b: string): string {
    return this.op('Add', [a, b], broadcast(this.shape(a), this.shape(b)));
  }
  sub(a: string, b: string): string {
    return this.op('Sub', [a, b], broadcast(this.shape(a), this.shape(b)));
  }
  neg(a: string): string {
    return this.op('Neg', [a], this.shape(a));
  }
  reshape(x: string, shape: readonly number[]): string {
    if (fmt(this.shape(x)) === fmt(shape)) return x;
    return this.op('Reshape', [x, this.int64(shape)], shape);
  }
  /**
   * `x` transposed by `perm`. A transpose of a Transpose's output is composed into one transpose of
   * its input (nothing at all when they cancel), so chained rules do not copy twice.
   */
  transpose(x: string, perm: readonly number[]): string {
    if (perm.every((p, i) => p === i)) return x;
    const p = this.producers.get(x);
    if (p?.opType === 'Transpose' && !p.domain && p.output[0] === x && p.input[0]) {
      const inner = attrInts(p, 'perm') ?? [...perm.keys()].reverse();
      return this.transpose(
        p.input[0],
        perm.map((i) => inner[i] as number),
      );
    }
    const s = this.shape(x);
    return this.op(
      'Transpose',
      [x],
      perm.map((p) => s[p] as number),
      { perm: [...perm] },
    );
  }
  /** Sum over `axes` (ReduceSum with the axes input, opset 13+). */
  reduceSum(x: string, axes: readonly number[], keepdims: boolean): string {
    const s = this.shape(x);
    const ax = axes.map((a) => (a < 0 ? a + s.length : a));
    const out = keepdims ? s.map((d, i) => (ax.includes(i) ? 1 : d)) : s.filter((_, i) => !ax.includes(i));
    if (ax.length === 0) return x;
    const k = ax.length;
    const rows = numel(s.slice(0, k));
    if (k < s.length && rows >= 1024 && ax.every((a, i) => a === i) && s.every((d) => d > 0)) {
      // a sum over the leading axes as ones[1,N] @ x[N,C]: onnxruntime's ReduceSum over leading axes
      // is several times slower than its last-axis one (profiled), the GEMV runs at memory speed
      const cols = numel(s.slice(k));
      const flat = this.reshape(x, [rows, cols]);
      return this.reshape(this.op('MatMul', [this.onesOf([1, rows]), flat], [1, cols]), out);
    }
    return this.op('ReduceSum', [x, this.int64(ax)], out, { keepdims: keepdims ? 1 : 0 });
  }
  /** Mean over `axes`, keeping them (ReduceSum times 1/count, opset independent). */
  meanKeep(x: string, axes: readonly number[]): string {
    const s = this.shape(x);
    const count = axes.reduce((a, ax) => a * (s[ax < 0 ? ax + s.length : ax] as number), 1);
    return this.mul(this.reduceSum(x, axes, true), this.scalar(1 / count));
  }

  /**
   * Sums a gradient `g` (of a broadcast result) back to the shape `target` of an operand: ReduceSum
   * over the broadcast axes, then Reshape to drop the leading ones (numpy broadcasting reversed).
   */
  sumTo(g: string, target: readonly number[]): string {
    const gs = this.shape(g);
    if (fmt(gs) === fmt(target)) return g;
    const lead = gs.length - target.length;
    if (lead < 0) throw new GradientGraphError(`sumTo(g, target): g ${fmt(gs)} has lower rank than ${fmt(target)}`);
    const axes: number[] = [];
    for (let i = 0; i < gs.length; i++) {
      if (i < lead) axes.push(i);
      else if (target[i - lead] === 1 && gs[i] !== 1) axes.push(i);
      else if (target[i - lead] !== gs[i])
        throw new GradientGraphError(`sumTo(g, target): g ${fmt(gs)} does not broadcast from ${fmt(target)}`);
    }
    return this.reshape(this.reduceSum(g, axes, true), target);
  }
}
