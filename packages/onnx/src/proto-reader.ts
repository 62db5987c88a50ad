/**
 * Compact reader for ONNX `ModelProto` bytes: enough to inspect models (nodes, initializers,
 * inputs/outputs, metadata), ours and the usual exporters'. Unknown fields are skipped.
 * Initializer bytes are views into the input (no copy); typed `float_data`/`int32_data`/`int64_data`
 * are converted to little-endian `rawData`.
 */
import type {
  AttributeProto,
  GraphProto,
  ModelProto,
  NodeProto,
  OperatorSetId,
  StringEntry,
  TensorProto,
  ValueInfoProto,
} from './proto.js';
import { DataType, OnnxProtoError } from './proto.js';

const utf8 = new TextDecoder();

/** A cursor over one message's bytes. */
class Cursor {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new OnnxProtoError(`decodeModel(bytes): truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++] as number;
      if (shift < 28) lo += (b & 127) * 2 ** shift;
      else if (shift === 28) {
        lo += (b & 15) * 2 ** 28;
        hi += (b & 127) >> 4;
      } else hi += (b & 127) * 2 ** (shift - 32);
      shift += 7;
      if (b < 128) break;
    }
    // two's complement int64 (negative ints, e.g. axes -1)
    if (hi >= 2 ** 31) return (hi - 2 ** 32) * 2 ** 32 + lo;
    return hi * 2 ** 32 + lo;
  }

  /** Returns [field number, wire type]. */
  tag(): [number, number] {
    const t = this.varint();
    return [Math.floor(t / 8), t % 8];
  }

  bytes(): Uint8Array {
    const len = this.varint();
    if (this.pos + len > this.end)
      throw new OnnxProtoError(
        `decodeModel(bytes): field of ${len} bytes at ${this.pos} runs past its message end ${this.end}`,
      );
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  sub(): Cursor {
    const b = this.bytes();
    return new Cursor(this.buf, b.byteOffset - this.buf.byteOffset, b.byteOffset - this.buf.byteOffset + b.length);
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  f32(): number {
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new OnnxProtoError(`decodeModel(bytes): unsupported wire type ${wire} at byte ${this.pos}`);
  }

  /** Repeated varint field, packed (wire 2) or not (wire 0). */
  varints(wire: number, into: number[]): void {
    if (wire !== 2) {
      into.push(this.varint());
      return;
    }
    const c = this.sub();
    while (c.pos < c.end) into.push(c.varint());
  }

  /** Repeated float field, packed or not. */
  floats(wire: number, into: number[]): void {
    if (wire !== 2) {
      into.push(this.f32());
      return;
    }
    const c = this.sub();
    while (c.pos < c.end) into.push(c.f32());
  }

  /** Calls `fn(field, wire)` for each field; `fn` returns false for fields it does not read. */
  each(fn: (field: number, wire: number) => boolean): void {
    while (this.pos < this.end) {
      const [field, wire] = this.tag();
      if (!fn(field, wire)) this.skip(wire);
    }
  }
}

function readEntry(c: Cursor): StringEntry {
  const e: StringEntry = { key: '', value: '' };
  c.each((f) => (f === 1 ? ((e.key = c.string()), true) : f === 2 ? ((e.value = c.string()), true) : false));
  return e;
}

function readTensor(c: Cursor): TensorProto {
  const t: TensorProto = { name: '', dims: [], dataType: 0 };
  const floatData: number[] = [];
  const intData: number[] = [];
  c.each((f, w) => {
    if (f === 1) c.varints(w, t.dims);
    else if (f === 2) t.dataType = c.varint();
    else if (f === 4) c.floats(w, floatData);
    else if (f === 5 || f === 7) c.varints(w, intData);
    else if (f === 8) t.name = c.string();
    else if (f === 9) t.rawData = c.bytes();
    else if (f === 13) (t.externalData ??= []).push(readEntry(c.sub()));
    else if (f === 14) t.dataLocation = c.varint();
    else return false;
    return true;
  });
  if (!t.rawData && floatData.length > 0) t.rawData = new Uint8Array(new Float32Array(floatData).buffer);
  if (!t.rawData && intData.length > 0) {
    const arr =
      t.dataType === DataType.INT64 ? new BigInt64Array(intData.map((x) => BigInt(x))) : new Int32Array(intData);
    t.rawData = new Uint8Array(arr.buffer);
  }
  return t;
}

function readAttribute(c: Cursor): AttributeProto {
  const a: AttributeProto = { name: '', type: 0 };
  c.each((f, w) => {
    if (f === 1) a.name = c.string();
    else if (f === 2) a.f = c.f32();
    else if (f === 3) a.i = c.varint();
    else if (f === 4) a.s = c.string();
    else if (f === 5) a.t = readTensor(c.sub());
    else if (f === 7) c.floats(w, (a.floats ??= []));
    else if (f === 8) c.varints(w, (a.ints ??= []));
    else if (f === 9) (a.strings ??= []).push(c.string());
    else if (f === 20) a.type = c.varint();
    else return false;
    return true;
  });
  return a;
}

function readNode(c: Cursor): NodeProto {
  const n: NodeProto = { input: [], output: [], opType: '', attribute: [] };
  c.each((f) => {
    if (f === 1) n.input.push(c.string());
    else if (f === 2) n.output.push(c.string());
    else if (f === 3) n.name = c.string();
    else if (f === 4) n.opType = c.string();
    else if (f === 5) n.attribute.push(readAttribute(c.sub()));
    else if (f === 7) n.domain = c.string();
    else return false;
    return true;
  });
  return n;
}

function readShape(c: Cursor): (number | string | null)[] {
  const shape: (number | string | null)[] = [];
  c.each((f) => {
    if (f !== 1) return false;
    const d = c.sub();
    let dim: number | string | null = null;
    d.each((df) => (df === 1 ? ((dim = d.varint()), true) : df === 2 ? ((dim = d.string()), true) : false));
    shape.push(dim);
    return true;
  });
  return shape;
}

function readValueInfo(c: Cursor): ValueInfoProto {
  const v: ValueInfoProto = { name: '', elemType: 0 };
  c.each((f) => {
    if (f === 1) v.name = c.string();
    else if (f === 2) {
      const type = c.sub();
      type.each((tf) => {
        if (tf !== 1) return false; // only tensor_type
        const tt = type.sub();
        tt.each((ttf) =>
          ttf === 1 ? ((v.elemType = tt.varint()), true) : ttf === 2 ? ((v.shape = readShape(tt.sub())), true) : false,
        );
        return true;
      });
    } else return false;
    return true;
  });
  return v;
}

function readGraph(c: Cursor): GraphProto {
  const g: GraphProto = { name: '', node: [], initializer: [], input: [], output: [], valueInfo: [] };
  c.each((f) => {
    if (f === 1) g.node.push(readNode(c.sub()));
    else if (f === 2) g.name = c.string();
    else if (f === 5) g.initializer.push(readTensor(c.sub()));
    else if (f === 11) g.input.push(readValueInfo(c.sub()));
    else if (f === 12) g.output.push(readValueInfo(c.sub()));
    else if (f === 13) g.valueInfo.push(readValueInfo(c.sub()));
    else return false;
    return true;
  });
  return g;
}

/** Parses ONNX model bytes (a `.onnx` file's content). Throws `OnnxProtoError` on malformed input. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const m: ModelProto = { irVersion: 0, opsetImport: [], graph: readGraph(new Cursor(bytes, 0, 0)), metadataProps: [] };
  const c = new Cursor(bytes, 0, bytes.length);
  c.each((f) => {
    if (f === 1) m.irVersion = c.varint();
    else if (f === 2) m.producerName = c.string();
    else if (f === 3) m.producerVersion = c.string();
    else if (f === 6) m.docString = c.string();
    else if (f === 7) m.graph = readGraph(c.sub());
    else if (f === 8) {
      const o: OperatorSetId = { domain: '', version: 0 };
      const oc = c.sub();
      oc.each((of) =>
        of === 1 ? ((o.domain = oc.string()), true) : of === 2 ? ((o.version = oc.varint()), true) : false,
      );
      m.opsetImport.push(o);
    } else if (f === 14) m.metadataProps.push(readEntry(c.sub()));
    else return false;
    return true;
  });
  return m;
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
