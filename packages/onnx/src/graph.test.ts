import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSession } from './session.js';
import type { HostTensor } from '@samtune/tensor';
import { ModelTooLargeError, OnnxGraphBuilder, OnnxGraphError } from './graph.js';
import { OnnxGraphOps } from './onnx-ops.js';
import { DATA_LOCATION_EXTERNAL, encodeModel } from './proto.js';
import { decodeModel, tensorFloats } from './proto-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-onnx-graph-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ramp = (n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, (_, i) => (i % 97) * scale - 3);

/** y = x @ W^T + b over x [N,64] (N dynamic), W [32,64]: 8 KiB of weights. */
function linearModel(): { ops: OnnxGraphOps; weights: Map<string, HostTensor> } {
  const weights = new Map<string, HostTensor>([
    ['fc.weight', { dtype: 'float32', shape: [32, 64], data: ramp(32 * 64, 0.01) }],
    ['fc.bias', { dtype: 'float32', shape: [32], data: ramp(32, 0.1) }],
    ['unused', { dtype: 'float32', shape: [4], data: ramp(4) }],
  ]);
  const ops = new OnnxGraphOps(weights, new OnnxGraphBuilder({ name: 'linear' }));
  ops.param('unused'); // added, but no node reads it: left out when written
  const x = ops.input('x', ['N', 64]);
  ops.output('y', ops.linear(x, ops.param('fc.weight'), ops.param('fc.bias')), ['N', 32]);
  ops.builder.setMetadata('samtune.kind', 'test');
  ops.builder.setMetadata('samtune.version', '1');
  return { ops, weights };
}

function expectedLinear(x: Float32Array, n: number, weights: Map<string, HostTensor>): Float32Array {
  const w = weights.get('fc.weight')!.data as Float32Array;
  const b = weights.get('fc.bias')!.data as Float32Array;
  const out = new Float32Array(n * 32);
  for (let r = 0; r < n; r++)
    for (let o = 0; o < 32; o++) {
      let s = b[o]!;
      for (let i = 0; i < 64; i++) s += x[r * 64 + i]! * w[o * 64 + i]!;
      out[r * 32 + o] = s;
    }
  return out;
}

describe('OnnxGraphBuilder', () => {
  it('names values uniquely and refuses duplicates', () => {
    const g = new OnnxGraphBuilder();
    expect([g.uniqueName('a'), g.uniqueName('a'), g.uniqueName('a')]).toEqual(['a', 'a_1', 'a_2']);
    g.addInput('x', [1]);
    expect(() => g.addInitializer('x', { dtype: 'float32', shape: [1], data: new Float32Array(1) })).toThrow(
      OnnxGraphError,
    );
    expect(() => g.addInitializer('y', { dtype: 'float32', shape: [2], data: new Float32Array(1) })).toThrow(
      /'y' has 1 elements but shape \[2\]/,
    );
    expect(() => g.addNode('Foo', ['x'], { alpha: 0.5 })).toThrow(/pass \{ f: 0.5 \} for a float/);
    expect(() => new OnnxGraphBuilder({ opset: 13 })).toThrow(/needs opset >= 17/);
  });

  it('writes opset 17 / IR 8, producer, metadata, pre-transposed weights, and drops unused initializers', () => {
    const { ops } = linearModel();
    const bytes = ops.builder.toModelBytes();
    const model = decodeModel(bytes);
    expect(encodeModel(model)).toEqual(bytes); // the reader keeps everything the writer wrote
    expect(model.irVersion).toBe(8);
    expect(model.opsetImport).toEqual([{ domain: '', version: 17 }]);
    expect(model.producerName).toBe('samtune');
    expect(model.metadataProps).toEqual([
      { key: 'samtune.kind', value: 'test' },
      { key: 'samtune.version', value: '1' },
    ]);
    expect(model.graph.node.map((n) => n.opType)).toEqual(['MatMul', 'Add', 'Identity']);
    expect(model.graph.initializer.map((t) => [t.name, t.dims])).toEqual([
      ['fc.bias', [32]],
      ['fc.weight.T', [64, 32]],
    ]);
    const wt = tensorFloats(model.graph.initializer[1]!);
    expect(wt[1 * 32 + 5]).toBeCloseTo(ramp(32 * 64, 0.01)[5 * 64 + 1]!, 6); // W^T[1,5] = W[5,1]
    expect(model.graph.input).toEqual([{ name: 'x', elemType: 1, shape: ['N', 64] }]);
    expect(model.graph.output).toEqual([{ name: 'y', elemType: 1, shape: ['N', 32] }]);
  });

  it('saves with external data (4096-aligned .data file) that onnxruntime loads from the path', async () => {
    const { ops, weights } = linearModel();
    const saved = ops.builder.save(join(dir, 'ext.onnx'), { externalData: 'always' });
    expect(saved.externalDataPath).toBe(join(dir, 'ext.onnx.data'));
    const model = decodeModel(readFileSync(saved.modelPath));
    const ext = model.graph.initializer.find((t) => t.name === 'fc.weight.T')!;
    expect(ext.dataLocation).toBe(DATA_LOCATION_EXTERNAL);
    expect(ext.rawData).toBeUndefined();
    expect(ext.externalData).toEqual([
      { key: 'location', value: 'ext.onnx.data' },
      { key: 'offset', value: '0' },
      { key: 'length', value: String(64 * 32 * 4) },
    ]);
    expect(model.graph.initializer.find((t) => t.name === 'fc.bias')!.rawData?.length).toBe(128); // small: inline
    expect(statSync(saved.externalDataPath!).size).toBe(64 * 32 * 4);
    expect(saved.modelBytes).toBeLessThan(2048);

    const session = await createSession(saved.modelPath, { intraOpNumThreads: 1 });
    const x = ramp(3 * 64, 0.02);
    const y = (await session.run({ x: { dtype: 'float32', shape: [3, 64], data: x } })).y!;
    await session.release();
    expect(y.shape).toEqual([3, 32]);
    const ref = expectedLinear(x, 3, weights);
    for (let i = 0; i < ref.length; i++) expect(y.data[i]).toBeCloseTo(ref[i]!, 3);
  });

  it('prunes the nodes that reach no graph output, chains included', () => {
    const g = new OnnxGraphBuilder();
    g.addInput('x', [2]);
    const [t] = g.addNode('Transpose', ['x'], {}, { name: 'dead_1' });
    g.addNode('Neg', [t as string], {}, { name: 'dead_2' });
    const [y] = g.addNode('Relu', ['x'], {}, { name: 'live' });
    g.addOutput(y as string, [2]);
    expect(g.pruneUnusedNodes()).toBe(2);
    expect(g.listNodes().map((n) => n.name)).toEqual(['live']);
    expect(g.pruneUnusedNodes()).toBe(0);
  });

  it('saves inline below the threshold', () => {
    const { ops } = linearModel();
    const saved = ops.builder.save(join(dir, 'inline.onnx'));
    expect(saved.externalDataPath).toBeUndefined();
    expect(statSync(saved.modelPath).size).toBe(saved.modelBytes);
    expect(saved.modelBytes).toBeGreaterThan(64 * 32 * 4);
  });

  it('refuses single-protobuf output over 2 GiB with ModelTooLargeError', () => {
    const g = new OnnxGraphBuilder();
    // 2.2 GB of untouched zero pages: sizing the model never reads them
    const big = new Float32Array(new ArrayBuffer(550_000_000 * 4));
    g.addInitializer('big', { dtype: 'float32', shape: [550_000_000], data: big });
    g.addInput('x', [1]);
    g.addNode('Add', ['x', 'big'], {}, { outputs: ['y'] });
    g.addOutput('y', [550_000_000]);
    expect(() => g.toModelBytes()).toThrow(ModelTooLargeError);
    expect(() => g.toModelBytes()).toThrow(/over protobuf's 2 GiB limit; use save\(path\)/);
    expect(() => g.save(join(dir, 'big.onnx'), { externalData: 'never' })).toThrow(/initializers are 2200000000 bytes/);
  });
});
