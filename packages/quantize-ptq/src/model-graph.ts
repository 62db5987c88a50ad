/**
 * Read-side helpers over a decoded ONNX `ModelProto` (from `@samtune/sam-model`'s `decodeModel`):
 * initializers by name, consumers of every value, fresh names, and tensor constructors for the
 * initializers the quantizer adds.
 */
import { DataType, tensorFloats } from '@samtune/onnx';
import type { ModelProto, NodeProto, TensorProto } from '@samtune/onnx';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when a model does not have what quantization needs (external data, unknown tensors). */
export class QuantizeModelError extends SamtuneError {
  readonly code: string = 'quantize-model';
  readonly kind: ErrorKind = 'input';
}

/** Indexes of one graph. */
export class ModelGraph {
  readonly initializers = new Map<string, TensorProto>();
  /** Value name → nodes that read it (in graph order). */
  readonly consumers = new Map<string, NodeProto[]>();
  /** Value name → node that produces it. */
  readonly producers = new Map<string, NodeProto>();
  readonly graphInputs: Set<string>;
  readonly graphOutputs: Set<string>;
  private readonly names = new Set<string>();

  constructor(readonly model: ModelProto) {
    const g = model.graph;
    for (const t of g.initializer) {
      this.initializers.set(t.name, t);
      this.names.add(t.name);
    }
    for (const n of g.node) {
      if (n.name) this.names.add(n.name);
      for (const i of n.input) {
        if (i === '') continue;
        let list = this.consumers.get(i);
        if (!list) this.consumers.set(i, (list = []));
        list.push(n);
      }
      for (const o of n.output) {
        this.producers.set(o, n);
        this.names.add(o);
      }
    }
    this.graphInputs = new Set(g.input.map((v) => v.name));
    this.graphOutputs = new Set(g.output.map((v) => v.name));
    for (const n of [...this.graphInputs, ...this.graphOutputs]) this.names.add(n);
  }

  /** A name not used in the graph, derived from `base` (reserved on return). */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** The float32 values of an inline float initializer, or undefined if `name` is not one. */
  floatInitializer(name: string): { data: Float32Array; shape: number[] } | undefined {
    const t = this.initializers.get(name);
    if (!t || t.dataType !== DataType.FLOAT) return undefined;
    if (!t.rawData) {
      throw new QuantizeModelError(
        `ModelGraph.floatInitializer(${name}): the initializer's data is external; load the model with its .data file inlined (models over 2 GiB are not supported by the quantizer)`,
      );
    }
    return { data: tensorFloats(t), shape: [...t.dims] };
  }

  /** Whether a value is computed at run time (not an initializer). */
  isActivation(name: string): boolean {
    return !this.initializers.has(name);
  }
}

const bytesOf = (a: ArrayBufferView): Uint8Array =>
  new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

/** An inline initializer. */
export function makeTensor(
  name: string,
  dataType: number,
  dims: readonly number[],
  data: ArrayBufferView,
): TensorProto {
  return { name, dataType, dims: [...dims], rawData: bytesOf(data) };
}

/** A float32 initializer (`dims` `[]` for a scalar). */
export function floatTensor(name: string, values: Float32Array, dims: readonly number[]): TensorProto {
  return makeTensor(name, DataType.FLOAT, dims, values);
}

/** A node (name given explicitly: quantizer nodes are named after the tensor they serve). */
export function makeNode(
  opType: string,
  name: string,
  input: string[],
  output: string[],
  attrs: { axis?: number; to?: number } = {},
): NodeProto {
  const attribute = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ({ name: k, type: 2, i: v as number }));
  return { opType, name, input, output, attribute };
}

/** An INT attribute of a node, or `fallback`. */
export function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute.find((x) => x.name === name);
  return a?.i ?? fallback;
}

/** A FLOAT attribute of a node, or `fallback`. */
export function floatAttr(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute.find((x) => x.name === name);
  return a?.f ?? fallback;
}
