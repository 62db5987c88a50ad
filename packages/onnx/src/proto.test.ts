import { describe, expect, it } from 'vitest';
import type { ModelProto } from './proto.js';
import { AttributeType, DataType, OnnxProtoError, PROTOBUF_MAX_BYTES, encodeModel, encodedModelSize } from './proto.js';
import { decodeModel, tensorFloats, tensorInt64s } from './proto-reader.js';

const f32 = (xs: number[]): Uint8Array => new Uint8Array(Float32Array.from(xs).buffer);

function sampleModel(): ModelProto {
  return {
    irVersion: 8,
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ],
    producerName: 'samtune',
    producerVersion: '0.1.0',
    docString: 'a doc string – with UTF-8 ✓',
    graph: {
      name: 'g',
      node: [
        {
          input: ['x', 'w', ''],
          output: ['y'],
          name: 'conv',
          opType: 'Conv',
          attribute: [
            { name: 'pads', type: AttributeType.INTS, ints: [1, 1, 1, 1] },
            { name: 'axis', type: AttributeType.INT, i: -1 },
            { name: 'big', type: AttributeType.INT, i: 5_000_000_000 },
            { name: 'neg_big', type: AttributeType.INT, i: -(2 ** 40) - 3 },
            { name: 'epsilon', type: AttributeType.FLOAT, f: 0.5 },
            { name: 'scales', type: AttributeType.FLOATS, floats: [0.25, -2] },
            { name: 'mode', type: AttributeType.STRING, s: 'linear' },
            { name: 'names', type: AttributeType.STRINGS, strings: ['a', 'b'] },
            {
              name: 'value',
              type: AttributeType.TENSOR,
              t: { name: 'v', dims: [2], dataType: DataType.FLOAT, rawData: f32([1, 2]) },
            },
          ],
        },
        { input: ['y'], output: ['z'], opType: 'Relu', attribute: [], domain: 'com.example' },
      ],
      initializer: [
        { name: 'w', dims: [2, 1, 1, 1], dataType: DataType.FLOAT, rawData: f32([0.5, -1.5]) },
        {
          name: 'shape',
          dims: [3],
          dataType: DataType.INT64,
          rawData: new Uint8Array(BigInt64Array.from([1n, -1n, 4n]).buffer),
        },
        {
          name: 'ext',
          dims: [1024],
          dataType: DataType.FLOAT,
          dataLocation: 1,
          externalData: [
            { key: 'location', value: 'm.onnx.data' },
            { key: 'offset', value: '4096' },
          ],
        },
      ],
      input: [{ name: 'x', elemType: DataType.FLOAT, shape: [1, 'N', 3, 3] }],
      output: [
        { name: 'z', elemType: DataType.FLOAT, shape: [1, null, 3, 3] },
        { name: 'r', elemType: DataType.INT64 },
      ],
      valueInfo: [{ name: 'y', elemType: DataType.FLOAT, shape: [] }],
    },
    metadataProps: [
      { key: 'samtune.model', value: 'vit_b' },
      { key: 'empty', value: '' },
    ],
  };
}

describe('ONNX protobuf writer and reader', () => {
  it('round-trips a model: nodes, attributes of every kind, initializers, I/O dims, metadata', () => {
    const model = sampleModel();
    const bytes = encodeModel(model);
    expect(bytes.length).toBe(encodedModelSize(model));
    const back = decodeModel(bytes);
    // empty string fields come back as written (present), so the structures are equal
    expect(back).toEqual(model);
    expect(tensorFloats(back.graph.initializer[0]!)).toEqual(Float32Array.from([0.5, -1.5]));
    expect(tensorInt64s(back.graph.initializer[1]!)).toEqual([1, -1, 4]);
    expect(() => tensorFloats(back.graph.initializer[1]!)).toThrow(/'shape' is not an inline float32 tensor/);
  });

  it('writes protobuf encodings byte for byte (tag, varint, packed ints as the generated code writes them)', () => {
    const model: ModelProto = {
      irVersion: 8,
      opsetImport: [],
      graph: {
        name: '',
        node: [
          { input: [], output: [], opType: 'A', attribute: [{ name: 'k', type: AttributeType.INTS, ints: [300, -1] }] },
        ],
        initializer: [],
        input: [],
        output: [],
        valueInfo: [],
      },
      metadataProps: [],
    };
    const bytes = Array.from(encodeModel(model));
    // ir_version: tag 0x08, 8 ; graph: tag 0x3a, len
    expect(bytes.slice(0, 2)).toEqual([0x08, 8]);
    // ints packed (field 8, wire 2): 300 = 0xac 0x02, -1 = ten bytes; every protobuf parser also reads unpacked
    const attr = [0x0a, 1, 0x6b, 0x42, 12, 0xac, 0x02, ...Array(9).fill(0xff), 0x01, 0xa0, 0x01, 7];
    const node = [0x22, 1, 0x41, 0x2a, attr.length, ...attr];
    const graph = [0x0a, node.length, ...node, 0x12, 0];
    expect(bytes.slice(2)).toEqual([0x3a, graph.length, ...graph]);
  });

  it('reads packed repeated fields and typed float_data/int64_data (other exporters)', () => {
    // TensorProto: dims packed [2,2] (field 1, wire 2), data_type 1, float_data packed, name 't'
    const floats = new Uint8Array(Float32Array.from([1, 2, 3, 4]).buffer);
    const tensor = [0x0a, 2, 2, 2, 0x10, 1, 0x22, 16, ...floats, 0x42, 1, 0x74];
    const i64 = [0x08, 3, 0x10, 7, 0x3a, 3, 5, 0x7f, 0x01, 0x42, 1, 0x75]; // dims [3], int64_data packed [5,127,1], name 'u'
    const graph = [0x2a, tensor.length, ...tensor, 0x2a, i64.length, ...i64];
    const model = decodeModel(Uint8Array.from([0x08, 7, 0x3a, graph.length, ...graph]));
    expect(model.irVersion).toBe(7);
    const [t, u] = model.graph.initializer;
    expect(t!.dims).toEqual([2, 2]);
    expect(tensorFloats(t!)).toEqual(Float32Array.from([1, 2, 3, 4]));
    expect(tensorInt64s(u!)).toEqual([5, 127, 1]);
  });

  it('reads initializer values from a Node Buffer (whose slice() is a view, not a copy)', () => {
    const bytes = encodeModel(sampleModel());
    const padded = Buffer.alloc(bytes.length + 3);
    padded.set(bytes, 3);
    const back = decodeModel(padded.subarray(3));
    const init = (name: string) => back.graph.initializer.find((t) => t.name === name)!;
    expect(Array.from(tensorFloats(init('w')))).toEqual([0.5, -1.5]);
    expect(tensorInt64s(init('shape'))).toEqual([1, -1, 4]);
  });

  it('refuses models over 2 GiB and malformed bytes, with named errors', () => {
    const model = sampleModel();
    // a stand-in raw_data whose length alone passes the limit (the size check runs before any allocation)
    model.graph.initializer[0]!.rawData = { length: PROTOBUF_MAX_BYTES } as Uint8Array;
    expect(() => encodeModel(model)).toThrow(OnnxProtoError);
    expect(() => encodeModel(model)).toThrow(
      /over protobuf's limit of 2147483647; store initializers as external data/,
    );
    // a graph field of 50 bytes in 3, and a truncated varint
    expect(() => decodeModel(Uint8Array.from([0x3a, 50, 0x0a]))).toThrow(
      /decodeModel\(bytes\): 3 bytes are not an ONNX ModelProto: index out of range/,
    );
    expect(() => decodeModel(Uint8Array.from([0x08, 0x80]))).toThrow(OnnxProtoError);
  });
});
