/**
 * `OnnxGraphBuilder`: collects nodes, initializers, inputs/outputs and metadata of one ONNX graph
 * (default opset 17, IR version 8) and writes it as a model: bytes in memory, or a file with the
 * initializers in a side `.data` file when they would pass protobuf's 2 GiB cap.
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { endianness } from 'node:os';
import type { HostTensor } from '@samtune/tensor';
import { numel } from '@samtune/tensor';
import type { AttributeProto, ModelProto, NodeProto, TensorProto, ValueInfoProto } from './proto.js';
import {
  AttributeType,
  DATA_LOCATION_EXTERNAL,
  DataType,
  PROTOBUF_MAX_BYTES,
  encodeModel,
  encodedModelSize,
} from './proto.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Version written to `producer_version`. */
export const SAMTUNE_PRODUCER_VERSION = '0.1.0';
/** Default opset of the default ONNX domain. */
export const DEFAULT_OPSET = 17;
/** Initializer bytes above which `save` moves initializers to external data (`externalData: 'auto'`). */
export const EXTERNAL_DATA_THRESHOLD_BYTES = 1.8e9;

/**
 * An attribute value. A bare number is an INT (must be an integer), a number array INTS, a string
 * STRING; floats must be explicit (`{ f }`, `{ floats }`), tensors `{ t }`.
 */
export type AttrValue =
  number | readonly number[] | string | { f: number } | { floats: readonly number[] } | { t: TensorProto };

/** Element types for graph inputs/outputs and initializers. */
export type OnnxElemType = 'float32' | 'int64' | 'int32' | 'bool' | 'uint8' | 'int8';

const ELEM: Record<OnnxElemType, number> = {
  float32: DataType.FLOAT,
  int64: DataType.INT64,
  int32: DataType.INT32,
  bool: DataType.BOOL,
  uint8: DataType.UINT8,
  int8: DataType.INT8,
};

/** Thrown on graph construction mistakes: duplicate names, bad attributes, unknown dtypes. */
export class OnnxGraphError extends SamtuneError {
  readonly code: string = 'onnx-graph';
  readonly kind: ErrorKind = 'input';
}

/** Thrown when a model is too large for a single protobuf (over 2 GiB) and external data is off. */
export class ModelTooLargeError extends SamtuneError {
  readonly code: string = 'model-too-large';
  readonly kind: ErrorKind = 'unsupported';
}

export interface GraphBuilderOptions {
  /** Graph name. Default `'samtune'`. */
  name?: string;
  /** Opset of the default domain, >= 17. Default 17. */
  opset?: number;
  producerVersion?: string;
}

export interface SaveOptions {
  /** `'auto'` (default): external when initializers exceed `thresholdBytes`; `'always'`; `'never'`. */
  externalData?: 'auto' | 'always' | 'never';
  /** Default `EXTERNAL_DATA_THRESHOLD_BYTES` (1.8 GB). */
  thresholdBytes?: number;
}

export interface SavedModel {
  modelPath: string;
  /** The `.data` file beside the model when initializers were stored externally. */
  externalDataPath?: string;
  /** Size of the `.onnx` file. */
  modelBytes: number;
}

function toBytes(data: ArrayBufferView): Uint8Array {
  if (endianness() !== 'LE')
    throw new OnnxGraphError('OnnxGraphBuilder: big-endian hosts are not supported (ONNX raw_data is little-endian)');
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function attribute(name: string, v: AttrValue): AttributeProto {
  if (typeof v === 'number') {
    if (!Number.isInteger(v))
      throw new OnnxGraphError(
        `OnnxGraphBuilder.addNode(attrs): INT attribute '${name}' got ${v}; pass { f: ${v} } for a float`,
      );
    return { name, type: AttributeType.INT, i: v };
  }
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: v };
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: [...(v as readonly number[])] };
  if ('f' in v) return { name, type: AttributeType.FLOAT, f: v.f };
  if ('floats' in v) return { name, type: AttributeType.FLOATS, floats: [...v.floats] };
  if ('t' in v) return { name, type: AttributeType.TENSOR, t: v.t };
  throw new OnnxGraphError(`OnnxGraphBuilder.addNode(attrs): unsupported value for attribute '${name}'`);
}

export class OnnxGraphBuilder {
  readonly name: string;
  readonly opset: number;
  private readonly producerVersion: string;
  private readonly nodes: NodeProto[] = [];
  private readonly inits = new Map<string, TensorProto>();
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly metadata = new Map<string, string>();
  private readonly used = new Set<string>();
  private readonly counters = new Map<string, number>();
  private readonly shapes = new Map<string, readonly number[]>();

  constructor(opts: GraphBuilderOptions = {}) {
    this.name = opts.name ?? 'samtune';
    this.opset = opts.opset ?? DEFAULT_OPSET;
    if (this.opset < 17)
      throw new OnnxGraphError(
        `new OnnxGraphBuilder(opts.opset): needs opset >= 17 (LayerNormalization), got ${this.opset}`,
      );
    this.producerVersion = opts.producerVersion ?? SAMTUNE_PRODUCER_VERSION;
  }

  /** A name not used yet in this graph, derived from `base` (`base`, `base_1`, `base_2`, …). */
  uniqueName(base: string): string {
    const name = this.fresh(base);
    this.used.add(name);
    return name;
  }

  /** A name not used yet, not reserved. */
  private fresh(base: string): string {
    let name = base;
    let i = this.counters.get(base) ?? 0;
    while (this.used.has(name)) name = `${base}_${++i}`;
    this.counters.set(base, i);
    return name;
  }

  /** Whether a value, initializer or node already has this name. */
  hasName(name: string): boolean {
    return this.used.has(name);
  }

  private claim(name: string, what: string): void {
    if (this.used.has(name))
      throw new OnnxGraphError(
        `OnnxGraphBuilder.${what}(name): name '${name}' is already used in graph '${this.name}'`,
      );
    this.used.add(name);
  }

  /**
   * Appends a node (nodes must be added in topological order, as ops are recorded) and returns
   * its output names (`outputs`: a count of fresh names, or explicit names). `''` marks an omitted
   * optional input.
   */
  addNode(
    opType: string,
    inputs: readonly string[],
    attrs: Readonly<Record<string, AttrValue>> = {},
    opts: { outputs?: number | readonly string[]; name?: string; domain?: string } = {},
  ): string[] {
    const nodeName = this.uniqueName(opts.name ?? opType);
    const outs = opts.outputs ?? 1;
    let outputs: string[];
    if (typeof outs === 'number') {
      outputs = Array.from({ length: outs }, (_, i) =>
        this.uniqueName(outs === 1 ? `${nodeName}_out` : `${nodeName}_out${i}`),
      );
    } else {
      for (const o of outs) this.claim(o, 'addNode');
      outputs = [...outs];
    }
    const node: NodeProto = {
      input: [...inputs],
      output: outputs,
      name: nodeName,
      opType,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    };
    if (opts.domain) node.domain = opts.domain;
    this.nodes.push(node);
    return outputs;
  }

  /** Adds an initializer named exactly `name` (throws `OnnxGraphError` if taken). Data is referenced, not copied. */
  addInitializer(name: string, tensor: HostTensor): string {
    const dataType = ELEM[tensor.dtype as OnnxElemType];
    if (dataType === undefined)
      throw new OnnxGraphError(
        `OnnxGraphBuilder.addInitializer(tensor): dtype '${tensor.dtype}' of '${name}' is not supported`,
      );
    if (tensor.data.length !== numel(tensor.shape)) {
      throw new OnnxGraphError(
        `OnnxGraphBuilder.addInitializer(tensor): '${name}' has ${tensor.data.length} elements but shape [${tensor.shape.join(',')}]`,
      );
    }
    this.claim(name, 'addInitializer');
    this.inits.set(name, { name, dims: [...tensor.shape], dataType, rawData: toBytes(tensor.data) });
    return name;
  }

  /** `addInitializer` under a fresh name derived from `base`. */
  private addFresh(base: string, tensor: HostTensor): string {
    return this.addInitializer(this.fresh(base), tensor);
  }

  /** Adds a float32 constant under a fresh name derived from `base`. */
  addFloatConstant(data: Float32Array, shape: readonly number[], base = 'const'): string {
    return this.addFresh(base, { dtype: 'float32', shape, data });
  }

  /** Adds an int64 constant (`shape` default `[values.length]`; `[]` for a scalar) under a fresh name. */
  addInt64Constant(values: readonly number[], base = 'const_i64', shape: readonly number[] = [values.length]): string {
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    return this.addFresh(base, { dtype: 'int64', shape, data });
  }

  /** The host bytes of an initializer (for build-time transforms), or undefined. */
  getInitializer(name: string): TensorProto | undefined {
    return this.inits.get(name);
  }

  /** Records the static shape of a node output (`-1` = dynamic); `OnnxGraphOps` does it for every op it records. */
  setValueShape(name: string, shape: readonly number[]): void {
    this.shapes.set(name, [...shape]);
  }

  /**
   * The static shape of a value (`-1` for dynamic or symbolic dims): recorded with `setValueShape`,
   * an initializer's dims, or a graph input's declared shape; undefined when unknown.
   */
  valueShape(name: string): number[] | undefined {
    const recorded = this.shapes.get(name);
    if (recorded) return [...recorded];
    const init = this.inits.get(name);
    if (init) return [...(init.dims ?? [])];
    const input = this.inputs.find((i) => i.name === name);
    if (input) return (input.shape ?? []).map((d) => (typeof d === 'number' ? d : -1));
    return undefined;
  }

  /** The nodes recorded so far, in topological order (read-only view, for graph transforms such as autodiff). */
  listNodes(): readonly NodeProto[] {
    return this.nodes;
  }

  /**
   * Removes the nodes none of whose outputs reach a graph output (dead code, e.g. a gradient rule's
   * transpose that the next rule composed away); onnxruntime runs every node of a graph, used or
   * not. Call it once the outputs are declared. Returns how many nodes were removed.
   */
  pruneUnusedNodes(): number {
    const live = new Set<string>(this.outputs.map((o) => o.name));
    const keep: NodeProto[] = [];
    for (let k = this.nodes.length - 1; k >= 0; k--) {
      const n = this.nodes[k] as NodeProto;
      if (!n.output.some((o) => o !== '' && live.has(o))) continue;
      keep.push(n);
      for (const i of n.input) if (i !== '') live.add(i);
    }
    const removed = this.nodes.length - keep.length;
    this.nodes.splice(0, this.nodes.length, ...keep.reverse());
    return removed;
  }

  /** The declared graph inputs (read-only view). */
  listInputs(): readonly ValueInfoProto[] {
    return this.inputs;
  }

  /** Declares a graph input; a string dim is symbolic (dynamic, e.g. `'num_points'`). */
  addInput(name: string, shape: readonly (number | string)[], elemType: OnnxElemType = 'float32'): string {
    this.claim(name, 'addInput');
    this.inputs.push({ name, elemType: ELEM[elemType], shape: [...shape] });
    return name;
  }

  /** Declares a graph output (the value must be produced by a node, an input or an initializer). Null dims are unknown. */
  addOutput(name: string, shape: readonly (number | string | null)[], elemType: OnnxElemType = 'float32'): void {
    if (this.outputs.some((o) => o.name === name))
      throw new OnnxGraphError(`OnnxGraphBuilder.addOutput(name): output '${name}' declared twice`);
    this.outputs.push({ name, elemType: ELEM[elemType], shape: [...shape] });
  }

  /** Sets a `metadata_props` entry (last value wins). */
  setMetadata(key: string, value: string): void {
    this.metadata.set(key, value);
  }

  /** Total bytes of the initializers that nodes or outputs use. */
  initializerBytes(): number {
    return this.usedInitializers().reduce((a, t) => a + (t.rawData?.length ?? 0), 0);
  }

  private usedInitializers(): TensorProto[] {
    const refs = new Set<string>(this.outputs.map((o) => o.name));
    for (const n of this.nodes) for (const i of n.input) refs.add(i);
    return [...this.inits.values()].filter((t) => refs.has(t.name));
  }

  /** The model, with initializers no node or output uses left out. */
  toModelProto(initializers: TensorProto[] = this.usedInitializers()): ModelProto {
    return {
      irVersion: 8,
      opsetImport: [
        { domain: '', version: this.opset },
        // onnxruntime's contrib ops (e.g. the fused Gelu), version 1
        ...[...new Set(this.nodes.map((n) => n.domain ?? '').filter((d) => d !== ''))].map((domain) => ({
          domain,
          version: 1,
        })),
      ],
      producerName: 'samtune',
      producerVersion: this.producerVersion,
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: initializers,
        input: this.inputs,
        output: this.outputs,
        valueInfo: [],
      },
      metadataProps: [...this.metadata].map(([key, value]) => ({ key, value })),
    };
  }

  /** The serialized model. Throws `ModelTooLargeError` over 2 GiB (use `save`, which writes external data). */
  toModelBytes(): Uint8Array {
    const model = this.toModelProto();
    const size = encodedModelSize(model);
    if (size > PROTOBUF_MAX_BYTES) {
      throw new ModelTooLargeError(
        `OnnxGraphBuilder.toModelBytes(): model '${this.name}' is ${size} bytes (initializers ${this.initializerBytes()}), over protobuf's 2 GiB limit; use save(path), which stores initializers as external data`,
      );
    }
    return encodeModel(model);
  }

  /**
   * Writes the model to `path`. With external data, initializers of 1 KiB or more go to
   * `<path>.data` (offsets aligned to 4096) and the `.onnx` keeps only the graph.
   */
  save(path: string, opts: SaveOptions = {}): SavedModel {
    const mode = opts.externalData ?? 'auto';
    const total = this.initializerBytes();
    const external =
      mode === 'always' || (mode === 'auto' && total > (opts.thresholdBytes ?? EXTERNAL_DATA_THRESHOLD_BYTES));
    if (!external) {
      if (total > PROTOBUF_MAX_BYTES) {
        throw new ModelTooLargeError(
          `OnnxGraphBuilder.save(path, opts.externalData='never'): initializers are ${total} bytes, over protobuf's 2 GiB limit; allow external data`,
        );
      }
      const bytes = this.toModelBytes();
      writeFileSync(path, bytes);
      return { modelPath: path, modelBytes: bytes.length };
    }
    const dataPath = `${path}.data`;
    const location = basename(dataPath);
    const fd = openSync(dataPath, 'w');
    const inits: TensorProto[] = [];
    let offset = 0;
    try {
      for (const t of this.usedInitializers()) {
        const raw = t.rawData;
        if (!raw || raw.length < 1024) {
          inits.push(t);
          continue;
        }
        const pad = (4096 - (offset % 4096)) % 4096;
        if (pad > 0) writeSync(fd, new Uint8Array(pad));
        offset += pad;
        for (let o = 0; o < raw.length; o += 1 << 28)
          writeSync(fd, raw.subarray(o, Math.min(raw.length, o + (1 << 28))));
        const { rawData: _dropped, ...meta } = t;
        inits.push({
          ...meta,
          dataLocation: DATA_LOCATION_EXTERNAL,
          externalData: [
            { key: 'location', value: location },
            { key: 'offset', value: String(offset) },
            { key: 'length', value: String(raw.length) },
          ],
        });
        offset += raw.length;
      }
    } finally {
      closeSync(fd);
    }
    const bytes = encodeModel(this.toModelProto(inits));
    writeFileSync(path, bytes);
    return { modelPath: path, externalDataPath: dataPath, modelBytes: bytes.length };
  }
}
