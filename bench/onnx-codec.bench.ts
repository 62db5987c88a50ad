/**
 * bench:onnx-codec — the ONNX codec on a ~100 MB model (400 float32 initializers of 256x256, the size
 * class of a SAM ViT-B encoder, plus 2,000 nodes): samtune's `encodeModel`/`decodeModel`
 * (@samtune/onnx: its plain objects mapped onto protobufjs code generated from the official
 * onnx.proto, the `onnx-proto` package) against raw `onnx-proto` on its own objects. Each decode
 * result is checked against the original (a checksum of every initializer's bytes).
 *
 * The first run of this bench (below, "decision") measured the hand-written codec samtune had before
 * against raw protobufjs; protobufjs was as fast, so the codec switched to it (issue 8).
 */
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { DataType, decodeModel, encodeModel, type ModelProto } from '@samtune/onnx';
import { machineInfo, median, writeResult } from './machine.js';

const { onnx } = onnxProto;

const INITS = 400;
const SIDE = 256;
const NODES = 2000;
const RUNS = 5;

function samtuneModel(): ModelProto {
  const initializer = Array.from({ length: INITS }, (_, i) => {
    const data = new Float32Array(SIDE * SIDE).map((_, j) => Math.sin(i * 7 + j));
    return { name: `w${i}`, dims: [SIDE, SIDE], dataType: DataType.FLOAT, rawData: new Uint8Array(data.buffer) };
  });
  const node = Array.from({ length: NODES }, (_, i) => ({
    input: [`x${i}`, `w${i % INITS}`],
    output: [`x${i + 1}`],
    name: `n${i}`,
    opType: 'MatMul',
    attribute: [],
  }));
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'bench',
    metadataProps: [],
    graph: {
      name: 'g',
      node,
      initializer,
      input: [{ name: 'x0', elemType: DataType.FLOAT, shape: [SIDE, SIDE] }],
      output: [{ name: `x${NODES}`, elemType: DataType.FLOAT, shape: [SIDE, SIDE] }],
      valueInfo: [],
    },
  };
}

function checksum(bytes: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 997) s = (s * 31 + (bytes[i] ?? 0)) >>> 0;
  return s;
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

const model = samtuneModel();
const expected = model.graph.initializer.map((t) => checksum(t.rawData!));
const bytes = encodeModel(model);
const mb = bytes.byteLength / 1e6;

const handEncode: number[] = [];
const handDecode: number[] = [];
const pbEncode: number[] = [];
const pbDecode: number[] = [];
const pbObject = onnx.ModelProto.decode(bytes); // protobufjs' own object model of the same model
for (let r = 0; r < RUNS; r++) {
  handEncode.push(time(() => encodeModel(model)));
  handDecode.push(
    time(() => {
      const m = decodeModel(bytes);
      if (m.graph.initializer.some((t, i) => checksum(t.rawData!) !== expected[i]))
        throw new Error('hand decode mismatch');
    }),
  );
  pbEncode.push(time(() => onnx.ModelProto.encode(pbObject).finish()));
  pbDecode.push(
    time(() => {
      const m = onnx.ModelProto.decode(bytes);
      if ((m.graph?.initializer ?? []).some((t, i) => checksum(t.rawData as Uint8Array) !== expected[i]))
        throw new Error('protobufjs decode mismatch');
    }),
  );
}
const same = Buffer.compare(Buffer.from(onnx.ModelProto.encode(pbObject).finish()), Buffer.from(bytes)) === 0;
const result = {
  machine: machineInfo(),
  model: { megabytes: +mb.toFixed(1), initializers: INITS, nodes: NODES },
  runs: RUNS,
  medianMs: {
    handEncode: +median(handEncode).toFixed(1),
    handDecode: +median(handDecode).toFixed(1),
    protobufjsEncode: +median(pbEncode).toFixed(1),
    protobufjsDecode: +median(pbDecode).toFixed(1),
  },
  protobufjsBytesIdentical: same,
};
const r = result.medianMs;
const md = `# ONNX codec: samtune (on protobufjs generated from onnx.proto) vs raw protobufjs

## Decision (2026-12-01, same machine, load 1.04, median of 5)

The hand-written codec samtune had before against raw protobufjs on this model: encode 76.1 ms vs
61.7 ms (protobufjs 0.81x), decode 5.8 ms vs 5.6 ms (0.97x). protobufjs being no slower, the codec
moved onto it.

## This run

Machine: ${result.machine.cpu}, ${result.machine.cores} cores, node ${result.machine.node}, load ${result.machine.loadAverage1m} (shared machine: ratios count, not absolute times). ${result.machine.date}

Model: ${result.model.megabytes} MB (${INITS} float32 initializers ${SIDE}x${SIDE}, ${NODES} nodes), median of ${RUNS} runs.

| | samtune encodeModel / decodeModel | raw protobufjs (onnx-proto) | ratio protobufjs / samtune |
| --- | --- | --- | --- |
| encode | ${r.handEncode} ms | ${r.protobufjsEncode} ms | ${(r.protobufjsEncode / r.handEncode).toFixed(2)}x |
| decode | ${r.handDecode} ms | ${r.protobufjsDecode} ms | ${(r.protobufjsDecode / r.handDecode).toFixed(2)}x |

protobufjs re-encodes the decoded model to byte-identical output: ${same}.

Regenerate: \`pnpm bench:onnx-codec\`.
`;
const out = join(import.meta.dirname, 'results');
writeResult(join(out, 'onnx-codec.json'), JSON.stringify(result, null, 2));
writeResult(join(out, 'onnx-codec.md'), md);
console.log(md);
