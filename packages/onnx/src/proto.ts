/**
 * Minimal protobuf writer and reader for the ONNX messages samtune emits (field numbers from
 * onnx/onnx.proto). Plain objects in, one `Uint8Array` out; the reader reads back what we write
 * (`proto-reader.ts`).
 *
 * Encoding follows proto2 as onnx.proto declares it: `dims`, `ints`, `floats` unpacked,
 * `float_data`/`int64_data` packed (the reader accepts both forms for every repeated scalar).
 * The writer sizes every message first and fills one buffer, so large initializers are copied once.
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** `TensorProto.DataType` values we use. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const;

/** `AttributeProto.AttributeType`. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

/** `TensorProto.DataLocation.EXTERNAL`. */
export const DATA_LOCATION_EXTERNAL = 1;

export interface StringEntry {
  key: string;
  value: string;
}

export interface TensorProto {
  name: string;
  dims: number[];
  /** A `DataType` value. */
  dataType: number;
  /** Little-endian element bytes (absent when the data is external). */
  rawData?: Uint8Array;
  /** `DATA_LOCATION_EXTERNAL` when the bytes live in another file (`externalData`: location/offset/length). */
  dataLocation?: number;
  externalData?: StringEntry[];
}

export interface AttributeProto {
  name: string;
  /** An `AttributeType` value. */
  type: number;
  f?: number;
  i?: number;
  /** UTF-8 string (ONNX `bytes s`). */
  s?: string;
  t?: TensorProto;
  floats?: number[];
  ints?: number[];
  strings?: string[];
}

export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  opType: string;
  domain?: string;
  attribute: AttributeProto[];
}

/** `ValueInfoProto` of a tensor: dims are numbers (`dim_value`), strings (`dim_param`) or null (unknown). */
export interface ValueInfoProto {
  name: string;
  elemType: number;
  /** Absent: rank unknown. */
  shape?: (number | string | null)[];
}

export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
}

export interface OperatorSetId {
  domain: string;
  version: number;
}

export interface ModelProto {
  irVersion: number;
  opsetImport: OperatorSetId[];
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  graph: GraphProto;
  metadataProps: StringEntry[];
}

/** Thrown when a model cannot be one protobuf (over 2 GiB) or bytes cannot be parsed. */
export class OnnxProtoError extends SamtuneError {
  readonly code: string = 'onnx-proto';
  readonly kind: ErrorKind = 'input';
  override readonly name = 'OnnxProtoError';
}

/** Largest protobuf message protobuf implementations accept (2 GiB - 1). */
export const PROTOBUF_MAX_BYTES = 2 ** 31 - 1;

// ---------------------------------------------------------------------------------------------
// Writer

const utf8 = new TextEncoder();

function varintSize(v: number): number {
  if (v < 0) return 10;
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

type Field =
  | { n: number; k: 'varint'; v: number }
  | { n: number; k: 'bytes'; v: Uint8Array }
  | { n: number; k: 'msg'; v: Msg }
  | { n: number; k: 'f32'; v: number }
  | { n: number; k: 'packed'; v: readonly number[] };

/** A message under construction: fields in order, size computed once. */
class Msg {
  private readonly fields: Field[] = [];
  private cached = -1;

  varint(n: number, v: number | undefined): this {
    if (v !== undefined) this.fields.push({ n, k: 'varint', v });
    return this;
  }
  bytes(n: number, v: Uint8Array | undefined): this {
    if (v !== undefined) this.fields.push({ n, k: 'bytes', v });
    return this;
  }
  string(n: number, v: string | undefined): this {
    return this.bytes(n, v === undefined ? undefined : utf8.encode(v));
  }
  msg(n: number, v: Msg | undefined): this {
    if (v !== undefined) this.fields.push({ n, k: 'msg', v });
    return this;
  }
  float(n: number, v: number | undefined): this {
    if (v !== undefined) this.fields.push({ n, k: 'f32', v });
    return this;
  }
  /** Packed repeated varints (int64 data). */
  packed(n: number, v: readonly number[] | undefined): this {
    if (v !== undefined && v.length > 0) this.fields.push({ n, k: 'packed', v });
    return this;
  }

  size(): number {
    if (this.cached >= 0) return this.cached;
    let s = 0;
    for (const f of this.fields) {
      s += varintSize(f.n * 8);
      if (f.k === 'varint') s += varintSize(f.v);
      else if (f.k === 'f32') s += 4;
      else {
        const len =
          f.k === 'bytes' ? f.v.length : f.k === 'msg' ? f.v.size() : f.v.reduce((a, x) => a + varintSize(x), 0);
        s += varintSize(len) + len;
      }
    }
    this.cached = s;
    return s;
  }

  write(out: Uint8Array, view: DataView, pos: number): number {
    for (const f of this.fields) {
      const wire = f.k === 'varint' ? 0 : f.k === 'f32' ? 5 : 2;
      pos = putVarint(out, pos, f.n * 8 + wire);
      if (f.k === 'varint') pos = putVarint(out, pos, f.v);
      else if (f.k === 'f32') {
        view.setFloat32(pos, f.v, true);
        pos += 4;
      } else if (f.k === 'bytes') {
        pos = putVarint(out, pos, f.v.length);
        out.set(f.v, pos);
        pos += f.v.length;
      } else if (f.k === 'msg') {
        pos = putVarint(out, pos, f.v.size());
        pos = f.v.write(out, view, pos);
      } else {
        pos = putVarint(
          out,
          pos,
          f.v.reduce((a, x) => a + varintSize(x), 0),
        );
        for (const x of f.v) pos = putVarint(out, pos, x);
      }
    }
    return pos;
  }
}

function putVarint(out: Uint8Array, pos: number, v: number): number {
  if (v < 0) {
    let b = BigInt.asUintN(64, BigInt(v));
    while (b >= 128n) {
      out[pos++] = Number(b & 127n) | 128;
      b >>= 7n;
    }
    out[pos++] = Number(b);
    return pos;
  }
  while (v >= 128) {
    out[pos++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  out[pos++] = v;
  return pos;
}

function entryMsg(e: StringEntry): Msg {
  return new Msg().string(1, e.key).string(2, e.value);
}

function tensorMsg(t: TensorProto): Msg {
  const m = new Msg();
  for (const d of t.dims) m.varint(1, d);
  m.varint(2, t.dataType).string(8, t.name).bytes(9, t.rawData);
  for (const e of t.externalData ?? []) m.msg(13, entryMsg(e));
  return m.varint(14, t.dataLocation);
}

function attributeMsg(a: AttributeProto): Msg {
  const m = new Msg().string(1, a.name).float(2, a.f).varint(3, a.i).string(4, a.s);
  if (a.t) m.msg(5, tensorMsg(a.t));
  for (const f of a.floats ?? []) m.float(7, f);
  for (const i of a.ints ?? []) m.varint(8, i);
  for (const s of a.strings ?? []) m.string(9, s);
  return m.varint(20, a.type);
}

function nodeMsg(n: NodeProto): Msg {
  const m = new Msg();
  for (const i of n.input) m.string(1, i);
  for (const o of n.output) m.string(2, o);
  m.string(3, n.name).string(4, n.opType);
  for (const a of n.attribute) m.msg(5, attributeMsg(a));
  return m.string(7, n.domain);
}

function valueInfoMsg(v: ValueInfoProto): Msg {
  const tensorType = new Msg().varint(1, v.elemType);
  if (v.shape) {
    const shape = new Msg();
    for (const d of v.shape) {
      const dim = new Msg();
      if (typeof d === 'number') dim.varint(1, d);
      else if (typeof d === 'string') dim.string(2, d);
      shape.msg(1, dim);
    }
    tensorType.msg(2, shape);
  }
  return new Msg().string(1, v.name).msg(2, new Msg().msg(1, tensorType));
}

function graphMsg(g: GraphProto): Msg {
  const m = new Msg();
  for (const n of g.node) m.msg(1, nodeMsg(n));
  m.string(2, g.name);
  for (const t of g.initializer) m.msg(5, tensorMsg(t));
  for (const v of g.input) m.msg(11, valueInfoMsg(v));
  for (const v of g.output) m.msg(12, valueInfoMsg(v));
  for (const v of g.valueInfo) m.msg(13, valueInfoMsg(v));
  return m;
}

function modelMsg(model: ModelProto): Msg {
  const m = new Msg().varint(1, model.irVersion).string(2, model.producerName).string(3, model.producerVersion);
  m.string(6, model.docString).msg(7, graphMsg(model.graph));
  for (const o of model.opsetImport) m.msg(8, new Msg().string(1, o.domain).varint(2, o.version));
  for (const e of model.metadataProps) m.msg(14, entryMsg(e));
  return m;
}

/** Serialized size of the model in bytes. */
export function encodedModelSize(model: ModelProto): number {
  return modelMsg(model).size();
}

/** Serializes a `ModelProto`. Throws `OnnxProtoError` above 2 GiB (store initializers externally then). */
export function encodeModel(model: ModelProto): Uint8Array {
  const m = modelMsg(model);
  const size = m.size();
  if (size > PROTOBUF_MAX_BYTES) {
    throw new OnnxProtoError(
      `encodeModel(model): the model serializes to ${size} bytes, over protobuf's limit of ${PROTOBUF_MAX_BYTES}; store initializers as external data`,
    );
  }
  const out = new Uint8Array(size);
  const end = m.write(out, new DataView(out.buffer), 0);
  if (end !== size) throw new OnnxProtoError(`encodeModel(model): wrote ${end} bytes, sized ${size} (writer bug)`);
  return out;
}
