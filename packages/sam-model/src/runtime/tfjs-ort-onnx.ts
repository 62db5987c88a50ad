/**
 * A minimal ONNX `ModelProto` writer for the one- or two-node float32 graphs that the tfjs→ORT
 * kernels run (FusedMatMul, ReduceSum, Tile, …). Only the protobuf fields those graphs need are
 * written: graph inputs and outputs carry an element type and no shape (unknown rank), so one
 * session serves every shape and rank.
 */

/** ONNX `TensorProto.DataType` codes used here. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

/** One node attribute: an int, a float, or a list of ints. */
export type OnnxAttr =
  { kind: 'int'; value: number } | { kind: 'float'; value: number } | { kind: 'ints'; value: readonly number[] };

/** One graph node: `opType` in `domain` ('' = ai.onnx, 'com.microsoft' for contrib ops). */
export interface OnnxNode {
  readonly opType: string;
  readonly domain?: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs?: Readonly<Record<string, OnnxAttr>>;
}

/** A graph value: its name and element type (`ONNX_FLOAT`, `ONNX_INT64`); the shape is left unknown. */
export interface OnnxValue {
  readonly name: string;
  readonly elemType: number;
}

/** A whole model: nodes in topological order, inputs, outputs, opset of ai.onnx (com.microsoft is 1). */
export interface OnnxModelSpec {
  readonly nodes: readonly OnnxNode[];
  readonly inputs: readonly OnnxValue[];
  readonly outputs: readonly OnnxValue[];
  readonly opset?: number;
}

class Writer {
  private readonly bytes: number[] = [];

  varint(v: number): this {
    let n = v;
    if (n < 0) throw new RangeError(`Writer.varint(v): expected a non-negative integer, got ${v}`);
    while (n > 0x7f) {
      this.bytes.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    this.bytes.push(n);
    return this;
  }

  /** A signed int64 as protobuf encodes it (two's complement, 10 bytes when negative). */
  int64(v: number): this {
    if (v >= 0) return this.varint(v);
    let big = BigInt.asUintN(64, BigInt(v));
    while (big > 0x7fn) {
      this.bytes.push(Number(big & 0x7fn) | 0x80);
      big >>= 7n;
    }
    this.bytes.push(Number(big));
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  intField(field: number, v: number): this {
    return this.tag(field, 0).int64(v);
  }

  floatField(field: number, v: number): this {
    const buf = new DataView(new ArrayBuffer(4));
    buf.setFloat32(0, v, true);
    this.tag(field, 5);
    for (let i = 0; i < 4; i++) this.bytes.push(buf.getUint8(i));
    return this;
  }

  bytesField(field: number, data: Uint8Array | readonly number[]): this {
    this.tag(field, 2).varint(data.length);
    for (const b of data) this.bytes.push(b);
    return this;
  }

  stringField(field: number, s: string): this {
    return this.bytesField(field, new TextEncoder().encode(s));
  }

  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    return this.bytesField(field, inner.bytes);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

function writeAttr(w: Writer, name: string, attr: OnnxAttr): void {
  // AttributeProto: name=1, f=2, i=3, ints=8, type=20 (FLOAT=1, INT=2, INTS=7)
  w.stringField(1, name);
  if (attr.kind === 'int') w.intField(3, attr.value).intField(20, 2);
  else if (attr.kind === 'float') w.floatField(2, attr.value).intField(20, 1);
  else {
    for (const v of attr.value) w.intField(8, v);
    w.intField(20, 7);
  }
}

function writeValue(w: Writer, v: OnnxValue): void {
  // ValueInfoProto: name=1, type=2 → TypeProto.tensor_type=1 → elem_type=1 (no shape: any rank)
  w.stringField(1, v.name);
  w.message(2, (t) => t.message(1, (tt) => tt.intField(1, v.elemType)));
}

/** Serialises `spec` to ONNX protobuf bytes (IR version 8, ai.onnx opset `spec.opset ?? 17`, com.microsoft 1). */
export function encodeOnnxModel(spec: OnnxModelSpec): Uint8Array {
  const w = new Writer();
  w.intField(1, 8); // ir_version
  w.stringField(2, 'samtune'); // producer_name
  w.message(7, (g) => {
    spec.nodes.forEach((node, idx) => {
      g.message(1, (n) => {
        for (const i of node.inputs) n.stringField(1, i);
        for (const o of node.outputs) n.stringField(2, o);
        n.stringField(3, `${node.opType}_${idx}`);
        n.stringField(4, node.opType);
        for (const [name, attr] of Object.entries(node.attrs ?? {})) n.message(5, (a) => writeAttr(a, name, attr));
        if (node.domain) n.stringField(7, node.domain);
      });
    });
    g.stringField(2, 'g');
    for (const v of spec.inputs) g.message(11, (x) => writeValue(x, v));
    for (const v of spec.outputs) g.message(12, (x) => writeValue(x, v));
  });
  w.message(8, (o) => o.stringField(1, '').intField(2, spec.opset ?? 17));
  if (spec.nodes.some((n) => n.domain === 'com.microsoft'))
    w.message(8, (o) => o.stringField(1, 'com.microsoft').intField(2, 1));
  return w.finish();
}
