/**
 * samtune's plain-object view of the ONNX messages it writes and reads, and the writer. The wire
 * format is protobufjs code generated from the official onnx.proto (the `onnx-proto` package):
 * `encodeModel` maps these objects onto its messages and `onnx.ModelProto.encode` serialises them,
 * `decodeModel` (proto-reader.ts) does the reverse. Chosen over the earlier hand-written codec after
 * bench/onnx-codec.bench.ts measured it as fast on a 100 MB model (encode 0.81x, decode 0.97x the
 * hand-written time); see bench/results/onnx-codec.md.
 */
import onnxProto from 'onnx-proto';
import type { onnx as pb } from 'onnx-proto';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

const { onnx } = onnxProto;

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
}

/** Largest protobuf message protobuf implementations accept (2 GiB - 1). */
export const PROTOBUF_MAX_BYTES = 2 ** 31 - 1;

// ---------------------------------------------------------------------------------------------
// Writer: plain objects -> onnx-proto messages -> bytes

type PbModel = pb.IModelProto;
type PbGraph = pb.IGraphProto;
type PbTensor = pb.ITensorProto;
type PbAttribute = pb.IAttributeProto;
type PbNode = pb.INodeProto;

const utf8 = new TextEncoder();

function pbTensor(t: TensorProto, withData = true): PbTensor {
  return {
    name: t.name,
    dims: t.dims,
    dataType: t.dataType,
    ...(withData && t.rawData ? { rawData: t.rawData } : {}),
    ...(t.dataLocation !== undefined ? { dataLocation: t.dataLocation } : {}),
    ...(t.externalData ? { externalData: t.externalData } : {}),
  };
}

function pbAttribute(a: AttributeProto, withTensor = true): PbAttribute {
  return {
    name: a.name,
    type: a.type,
    ...(a.f !== undefined ? { f: a.f } : {}),
    ...(a.i !== undefined ? { i: a.i } : {}),
    ...(a.s !== undefined ? { s: utf8.encode(a.s) } : {}),
    ...(withTensor && a.t ? { t: pbTensor(a.t) } : {}),
    ...(a.floats ? { floats: a.floats } : {}),
    ...(a.ints ? { ints: a.ints } : {}),
    ...(a.strings ? { strings: a.strings.map((x) => utf8.encode(x)) } : {}),
  };
}

function pbNode(n: NodeProto, withAttributes = true): PbNode {
  return {
    input: n.input,
    output: n.output,
    ...(n.name !== undefined ? { name: n.name } : {}),
    opType: n.opType,
    ...(n.domain ? { domain: n.domain } : {}),
    attribute: withAttributes ? n.attribute.map((a) => pbAttribute(a)) : [],
  };
}

function pbValueInfo(v: ValueInfoProto): pb.IValueInfoProto {
  const shape = v.shape
    ? {
        dim: v.shape.map((d) =>
          typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {},
        ),
      }
    : undefined;
  return { name: v.name, type: { tensorType: { elemType: v.elemType, ...(shape ? { shape } : {}) } } };
}

function pbGraph(g: GraphProto, withNodesAndInits = true): PbGraph {
  return {
    name: g.name,
    node: withNodesAndInits ? g.node.map((n) => pbNode(n)) : [],
    initializer: withNodesAndInits ? g.initializer.map((t) => pbTensor(t)) : [],
    input: g.input.map(pbValueInfo),
    output: g.output.map(pbValueInfo),
    valueInfo: g.valueInfo.map(pbValueInfo),
  };
}

function pbModel(model: ModelProto, withGraph = true): PbModel {
  return {
    irVersion: model.irVersion,
    ...(model.producerName !== undefined ? { producerName: model.producerName } : {}),
    ...(model.producerVersion !== undefined ? { producerVersion: model.producerVersion } : {}),
    ...(model.docString !== undefined ? { docString: model.docString } : {}),
    ...(withGraph ? { graph: pbGraph(model.graph) } : {}),
    opsetImport: model.opsetImport,
    metadataProps: model.metadataProps,
  };
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Size of a length-delimited field with a one-byte tag (every field number below 16). */
const field = (len: number): number => 1 + varintSize(len) + len;

function tensorSize(t: TensorProto): number {
  const base = onnx.TensorProto.encode(pbTensor(t, false)).len;
  return t.rawData ? base + field(t.rawData.length) : base;
}

function attributeSize(a: AttributeProto): number {
  const base = onnx.AttributeProto.encode(pbAttribute(a, false)).len;
  return a.t ? base + field(tensorSize(a.t)) : base;
}

function nodeSize(n: NodeProto): number {
  const base = onnx.NodeProto.encode(pbNode(n, false)).len;
  return n.attribute.reduce((s, a) => s + field(attributeSize(a)), base);
}

function graphSize(g: GraphProto): number {
  const base = onnx.GraphProto.encode(pbGraph(g, false)).len;
  const nodes = g.node.reduce((s, n) => s + field(nodeSize(n)), 0);
  return g.initializer.reduce((s, t) => s + field(tensorSize(t)), base + nodes);
}

/**
 * Serialized size of the model in bytes, computed without serialising initializer data (so a
 * model over 2 GiB can be measured before deciding to store its initializers externally).
 */
export function encodedModelSize(model: ModelProto): number {
  return onnx.ModelProto.encode(pbModel(model, false)).len + field(graphSize(model.graph));
}

/** Serializes a `ModelProto`. Throws `OnnxProtoError` above 2 GiB (store initializers externally then). */
export function encodeModel(model: ModelProto): Uint8Array {
  const size = encodedModelSize(model);
  if (size > PROTOBUF_MAX_BYTES) {
    throw new OnnxProtoError(
      `encodeModel(model): the model serializes to ${size} bytes, over protobuf's limit of ${PROTOBUF_MAX_BYTES}; store initializers as external data`,
    );
  }
  const out = onnx.ModelProto.encode(pbModel(model)).finish();
  if (out.length !== size) throw new OnnxProtoError(`encodeModel(model): wrote ${out.length} bytes, sized ${size}`);
  return out;
}
