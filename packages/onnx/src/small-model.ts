/**
 * Small shape-free graphs (one or two nodes, float32/int64 values of unknown rank), as the tfjs→ORT
 * kernels run them: one session then serves every shape and rank. `encodeSmallModel` turns such a
 * spec into a `ModelProto` and serialises it with the one ONNX codec (`proto.ts`).
 */
import type { AttributeProto, ModelProto } from './proto.js';
import { AttributeType, DataType, encodeModel } from './proto.js';

/** ONNX `TensorProto.DataType` codes for small-model values. */
export const ONNX_FLOAT = DataType.FLOAT;
export const ONNX_INT64 = DataType.INT64;

/** One node attribute: an int, a float, or a list of ints. */
export type SmallAttr =
  { kind: 'int'; value: number } | { kind: 'float'; value: number } | { kind: 'ints'; value: readonly number[] };

/** One graph node: `opType` in `domain` ('' = ai.onnx, 'com.microsoft' for contrib ops). */
export interface SmallNode {
  readonly opType: string;
  readonly domain?: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs?: Readonly<Record<string, SmallAttr>>;
}

/** A graph value: its name and element type (`ONNX_FLOAT`, `ONNX_INT64`); the shape is left unknown. */
export interface SmallValue {
  readonly name: string;
  readonly elemType: number;
}

/** A whole model: nodes in topological order, inputs, outputs, opset of ai.onnx (com.microsoft is 1). */
export interface SmallModelSpec {
  readonly nodes: readonly SmallNode[];
  readonly inputs: readonly SmallValue[];
  readonly outputs: readonly SmallValue[];
  readonly opset?: number;
}

function attribute(name: string, attr: SmallAttr): AttributeProto {
  if (attr.kind === 'int') return { name, type: AttributeType.INT, i: attr.value };
  if (attr.kind === 'float') return { name, type: AttributeType.FLOAT, f: attr.value };
  return { name, type: AttributeType.INTS, ints: [...attr.value] };
}

/** The `ModelProto` of `spec` (IR version 8, ai.onnx opset `spec.opset ?? 17`, com.microsoft 1 when used). */
export function smallModelProto(spec: SmallModelSpec): ModelProto {
  const opsetImport = [{ domain: '', version: spec.opset ?? 17 }];
  if (spec.nodes.some((n) => n.domain === 'com.microsoft')) opsetImport.push({ domain: 'com.microsoft', version: 1 });
  return {
    irVersion: 8,
    producerName: 'samtune',
    opsetImport,
    metadataProps: [],
    graph: {
      name: 'g',
      node: spec.nodes.map((n, idx) => ({
        input: [...n.inputs],
        output: [...n.outputs],
        name: `${n.opType}_${idx}`,
        opType: n.opType,
        ...(n.domain ? { domain: n.domain } : {}),
        attribute: Object.entries(n.attrs ?? {}).map(([name, a]) => attribute(name, a)),
      })),
      initializer: [],
      input: spec.inputs.map((v) => ({ name: v.name, elemType: v.elemType })),
      output: spec.outputs.map((v) => ({ name: v.name, elemType: v.elemType })),
      valueInfo: [],
    },
  };
}

/** Serialises `spec` to ONNX protobuf bytes. */
export function encodeSmallModel(spec: SmallModelSpec): Uint8Array {
  return encodeModel(smallModelProto(spec));
}
