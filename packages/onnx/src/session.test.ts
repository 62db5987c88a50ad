import { describe, expect, it } from 'vitest';
import { OnnxGraphBuilder } from './graph.js';
import { OnnxGraphOps } from './onnx-ops.js';
import { decodeModel } from './proto-reader.js';
import type { HostTensor } from '@samtune/tensor';
import { SessionError, SessionInputError, createSession } from './session.js';

/** points [1,N,2] (float32) scaled by 2, labels [1,N] (int64) cast to float32, plus a sum output. */
function pointsModel(): Uint8Array {
  const ops = new OnnxGraphOps(new Map());
  const points = ops.input('points', [1, 'N', 2]);
  const labels = ops.input('labels', [1, 'N'], 'int64');
  ops.output('scaled', ops.scale(points, 2), [1, 'N', 2]);
  ops.output('labels_f', ops.emit('Cast', [labels], labels.shape, { to: 1 }), [1, 'N']);
  ops.builder.setMetadata('samtune.test', 'yes');
  return ops.builder.toModelBytes();
}

const f32 = (shape: number[], values: number[]): HostTensor => ({
  dtype: 'float32',
  shape,
  data: Float32Array.from(values),
});
const i64 = (shape: number[], values: number[]): HostTensor => ({
  dtype: 'int64',
  shape,
  data: BigInt64Array.from(values.map(BigInt)),
});

describe('createSession', () => {
  it('runs with spinning workers off, disabled optimizers and no memory pattern (session config entries together)', async () => {
    const s = await createSession(pointsModel(), {
      intraOpNumThreads: 2,
      spinning: false,
      disabledOptimizers: ['SkipLayerNormFusion'],
      memPattern: false,
    });
    const out = await s.run({ points: f32([1, 2, 2], [1, 2, 3, 4]), labels: i64([1, 2], [1, 0]) });
    expect(Array.from(out.scaled?.data ?? [])).toEqual([2, 4, 6, 8]);
    expect(Array.from(out.labels_f?.data ?? [])).toEqual([1, 0]);
    await s.release();
  });

  it('exposes input/output signatures with symbolic dims and runs at any N', async () => {
    const s = await createSession(pointsModel(), { intraOpNumThreads: 1 });
    expect(s.inputs).toEqual([
      { name: 'points', dtype: 'float32', shape: [1, 'N', 2] },
      { name: 'labels', dtype: 'int64', shape: [1, 'N'] },
    ]);
    expect(s.outputs.map((o) => o.name)).toEqual(['scaled', 'labels_f']);
    for (const n of [1, 3]) {
      const pts = Array.from({ length: 2 * n }, (_, i) => i + 0.5);
      const out = await s.run({ points: f32([1, n, 2], pts), labels: i64([1, n], Array(n).fill(-1)) });
      expect(out.scaled).toEqual({
        dtype: 'float32',
        shape: [1, n, 2],
        data: Float32Array.from(pts.map((p) => 2 * p)),
      });
      expect(out.labels_f).toEqual({ dtype: 'float32', shape: [1, n], data: new Float32Array(n).fill(-1) });
    }
    const only = await s.run({ points: f32([1, 1, 2], [1, 2]), labels: i64([1, 1], [0]) }, ['labels_f']);
    expect(Object.keys(only)).toEqual(['labels_f']);
    await s.release();
    await expect(s.run({})).rejects.toThrow(/the session was released/);
  });

  it('names missing, unknown, mis-shaped and mis-typed inputs with expected vs got', async () => {
    const s = await createSession(pointsModel(), { intraOpNumThreads: 1, graphOptimizationLevel: 'basic' });
    const labels = i64([1, 2], [1, 0]);
    await expect(s.run({ labels })).rejects.toThrow(SessionInputError);
    await expect(s.run({ labels })).rejects.toThrow(/missing input 'points' \(float32 \[1,N,2\]\); given: labels/);
    await expect(s.run({ points: f32([1, 2, 3], Array(6).fill(0)), labels })).rejects.toThrow(
      /input 'points' must have shape \[1,N,2\], got \[1,2,3\]/,
    );
    await expect(s.run({ points: f32([2, 2], Array(4).fill(0)), labels })).rejects.toThrow(/got \[2,2\]/);
    await expect(s.run({ points: f32([1, 2, 2], Array(4).fill(0)), labels: f32([1, 2], [1, 0]) })).rejects.toThrow(
      /input 'labels' must be int64 \[1,N\], got float32 \[1,2\]/,
    );
    await expect(s.run({ points: f32([1, 1, 2], [0, 0]), labels: i64([1, 1], [1]), extra: labels })).rejects.toThrow(
      /unknown input\(s\) 'extra'; the model takes points, labels/,
    );
    await expect(s.run({ points: f32([1, 1, 2], [0, 0]), labels: i64([1, 1], [1]) }, ['masks'])).rejects.toThrow(
      /no output\(s\) masks; the model has scaled, labels_f/,
    );
    await s.release();
  });

  it('wraps load failures in SessionError', async () => {
    await expect(createSession(Uint8Array.from([1, 2, 3]))).rejects.toThrow(SessionError);
    await expect(createSession('/nonexistent/model.onnx')).rejects.toThrow(
      /could not load the model \('\/nonexistent\/model.onnx'\)/,
    );
  });

  it('keeps metadata_props readable (onnxruntime-node 1.30 exposes no model metadata; our reader does)', async () => {
    const bytes = pointsModel();
    expect(decodeModel(bytes).metadataProps).toEqual([{ key: 'samtune.test', value: 'yes' }]);
    const s = await createSession(bytes, { intraOpNumThreads: 1 }); // the metadata does not disturb loading
    await s.release();
  });

  it('runs a graph built with the builder directly (OnnxGraphBuilder without OnnxGraphOps)', async () => {
    const g = new OnnxGraphBuilder();
    g.addInput('a', [2]);
    const [out] = g.addNode('Neg', ['a']);
    g.addOutput(out!, [2]);
    const s = await createSession(g.toModelBytes(), { intraOpNumThreads: 1 });
    expect((await s.run({ a: f32([2], [1, -2]) }))[out!]!.data).toEqual(Float32Array.from([-1, 2]));
    await s.release();
  });
});
