/**
 * Reader for ONNX `ModelProto` bytes (ours and the usual exporters'), through the protobufjs code
 * generated from the official onnx.proto (`onnx-proto`), mapped onto samtune's plain objects
 * (proto.ts). Unknown fields are ignored. Initializer bytes are views into the input (no copy);
 * typed `float_data`/`int32_data`/`int64_data` are converted to little-endian `rawData`.
 */
import onnxProto from 'onnx-proto';
import type { onnx as pb } from 'onnx-proto';
import type {
  AttributeProto,
  GraphProto,
  ModelProto,
  NodeProto,
  StringEntry,
  TensorProto,
  ValueInfoProto,
} from './proto.js';
import { DATA_LOCATION_EXTERNAL, DataType, OnnxProtoError } from './proto.js';

const { onnx } = onnxProto;
const utf8 = new TextDecoder();

/** protobufjs gives int64 fields as numbers or `Long`s. */
type Int64 = number | { toNumber(): number };
const num = (v: Int64 | null | undefined): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());
const nums = (vs: readonly Int64[] | null | undefined): number[] => (vs ?? []).map(num);

/** A plain `Uint8Array` view on protobufjs' bytes (a Node Buffer there): no copy. */
const view = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

function entries(es: readonly pb.IStringStringEntryProto[] | null | undefined): StringEntry[] {
  return (es ?? []).map((e) => ({ key: e.key ?? '', value: e.value ?? '' }));
}

function readTensor(t: pb.ITensorProto): TensorProto {
  const out: TensorProto = { name: t.name ?? '', dims: nums(t.dims), dataType: t.dataType ?? 0 };
  if (t.rawData && t.rawData.length > 0) out.rawData = view(t.rawData);
  else if (t.floatData && t.floatData.length > 0) out.rawData = new Uint8Array(Float32Array.from(t.floatData).buffer);
  else if (t.int64Data && t.int64Data.length > 0)
    out.rawData = new Uint8Array(BigInt64Array.from(t.int64Data, (x) => BigInt(num(x))).buffer);
  else if (t.int32Data && t.int32Data.length > 0) out.rawData = new Uint8Array(Int32Array.from(t.int32Data).buffer);
  else if (t.dataLocation !== DATA_LOCATION_EXTERNAL && out.dims.some((d) => d === 0)) out.rawData = new Uint8Array(0); // an empty tensor (e.g. Resize's roi) has no bytes to write
  if (t.externalData && t.externalData.length > 0) out.externalData = entries(t.externalData);
  if (t.dataLocation) out.dataLocation = t.dataLocation;
  return out;
}

function readAttribute(a: pb.IAttributeProto): AttributeProto {
  const out: AttributeProto = { name: a.name ?? '', type: a.type ?? 0 };
  if (a.f) out.f = a.f;
  if (a.i != null && num(a.i) !== 0) out.i = num(a.i);
  if (a.s && a.s.length > 0) out.s = utf8.decode(a.s);
  if (a.t) out.t = readTensor(a.t);
  if (a.floats && a.floats.length > 0) out.floats = [...a.floats];
  if (a.ints && a.ints.length > 0) out.ints = nums(a.ints);
  if (a.strings && a.strings.length > 0) out.strings = a.strings.map((x) => utf8.decode(x));
  return out;
}

function readNode(n: pb.INodeProto): NodeProto {
  const out: NodeProto = {
    input: [...(n.input ?? [])],
    output: [...(n.output ?? [])],
    opType: n.opType ?? '',
    attribute: (n.attribute ?? []).map(readAttribute),
  };
  if (n.name) out.name = n.name;
  if (n.domain) out.domain = n.domain;
  return out;
}

function readValueInfo(v: pb.IValueInfoProto): ValueInfoProto {
  const out: ValueInfoProto = { name: v.name ?? '', elemType: 0 };
  const tt = v.type?.tensorType; // only tensor types (sequences and maps keep elemType 0)
  if (tt) {
    out.elemType = tt.elemType ?? 0;
    if (tt.shape)
      out.shape = (tt.shape.dim ?? []).map((d) =>
        d.dimValue != null ? num(d.dimValue) : d.dimParam != null ? d.dimParam : null,
      );
  }
  return out;
}

function readGraph(g: pb.IGraphProto | null | undefined): GraphProto {
  return {
    name: g?.name ?? '',
    node: (g?.node ?? []).map(readNode),
    initializer: (g?.initializer ?? []).map(readTensor),
    input: (g?.input ?? []).map(readValueInfo),
    output: (g?.output ?? []).map(readValueInfo),
    valueInfo: (g?.valueInfo ?? []).map(readValueInfo),
  };
}

/** Parses ONNX model bytes (a `.onnx` file's content). Throws `OnnxProtoError` on malformed input. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  let m: pb.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new OnnxProtoError(`decodeModel(bytes): ${bytes.length} bytes are not an ONNX ModelProto: ${why}`);
  }
  const out: ModelProto = {
    irVersion: num(m.irVersion),
    opsetImport: (m.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: num(o.version) })),
    graph: readGraph(m.graph),
    metadataProps: entries(m.metadataProps),
  };
  if (m.producerName) out.producerName = m.producerName;
  if (m.producerVersion) out.producerVersion = m.producerVersion;
  if (m.docString) out.docString = m.docString;
  return out;
}
/** The float32 values of an initializer read by `decodeModel` (copied, alignment-safe). */
export function tensorFloats(t: TensorProto): Float32Array {
  if (t.dataType !== DataType.FLOAT || !t.rawData) {
    throw new OnnxProtoError(
      `tensorFloats(t): initializer '${t.name}' is not an inline float32 tensor (data_type ${t.dataType})`,
    );
  }
  // new Uint8Array(view) copies (a Buffer's slice() would not): aligned, exactly this tensor's bytes
  return new Float32Array(new Uint8Array(t.rawData).buffer);
}

/** The int64 values of an initializer read by `decodeModel`, as numbers. */
export function tensorInt64s(t: TensorProto): number[] {
  if (t.dataType !== DataType.INT64 || !t.rawData) {
    throw new OnnxProtoError(
      `tensorInt64s(t): initializer '${t.name}' is not an inline int64 tensor (data_type ${t.dataType})`,
    );
  }
  return Array.from(new BigInt64Array(new Uint8Array(t.rawData).buffer), Number);
}
