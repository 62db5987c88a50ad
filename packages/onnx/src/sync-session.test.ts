import { describe, expect, it } from 'vitest';
import { ONNX_FLOAT } from './small-model.js';
import { OrtBindingError, SessionCache, SyncOrtSession } from './sync-session.js';

const f32 = (name: string) => ({ name, elemType: ONNX_FLOAT });

describe('encodeOnnxModel + SyncOrtSession', () => {
  it('runs a two-node graph synchronously into a pre-allocated output (int, float and negative attributes)', () => {
    const s = new SyncOrtSession({
      nodes: [
        { opType: 'LeakyRelu', inputs: ['x'], outputs: ['h'], attrs: { alpha: { kind: 'float', value: 0.5 } } },
        { opType: 'Softmax', inputs: ['h'], outputs: ['y'], attrs: { axis: { kind: 'int', value: -1 } } },
      ],
      inputs: [f32('x')],
      outputs: [f32('y')],
    });
    const x = Float32Array.of(1, -2, 0, 3);
    const out = new Float32Array(4).fill(NaN);
    s.run({ x: { data: x, dims: [2, 2] } }, { y: { data: out, dims: [2, 2] } });
    // rows: softmax([1, -1]) and softmax([0, 3])
    const sm = (a: number, b: number) => [
      Math.exp(a) / (Math.exp(a) + Math.exp(b)),
      Math.exp(b) / (Math.exp(a) + Math.exp(b)),
    ];
    const want = [...sm(1, -1), ...sm(0, 3)];
    want.forEach((w, i) => expect(out[i]).toBeCloseTo(w, 6));
    s.dispose();
    expect(() => s.run({ x: { data: x, dims: [2, 2] } }, { y: { data: out, dims: [2, 2] } })).toThrow(/disposed/);
  });

  it('serves any rank from one session (ints attribute, com.microsoft domain)', () => {
    const cache = new SessionCache({ intraOpThreads: 1, spinning: false });
    const spec = () => ({
      nodes: [
        {
          opType: 'FusedMatMul',
          domain: 'com.microsoft',
          inputs: ['a', 'b'],
          outputs: ['y'],
          attrs: { transA: { kind: 'int' as const, value: 0 }, transB: { kind: 'int' as const, value: 1 } },
        },
      ],
      inputs: [f32('a'), f32('b')],
      outputs: [f32('y')],
    });
    const mm = cache.get('mm', spec);
    const y2 = new Float32Array(1);
    mm.run(
      { a: { data: Float32Array.of(1, 2), dims: [1, 2] }, b: { data: Float32Array.of(3, 4), dims: [1, 2] } },
      { y: { data: y2, dims: [1, 1] } },
    );
    expect(Array.from(y2)).toEqual([11]);
    const y3 = new Float32Array(2);
    mm.run(
      { a: { data: Float32Array.of(1, 2, 3, 4), dims: [2, 1, 2] }, b: { data: Float32Array.of(1, 1), dims: [1, 2] } },
      { y: { data: y3, dims: [2, 1, 1] } },
    );
    expect(Array.from(y3)).toEqual([3, 7]);
    expect(cache.get('mm', spec)).toBe(mm);
    expect(cache.size).toBe(1);
    cache.dispose();
    expect(cache.size).toBe(0);
  });

  it('names the graph when ORT rejects it', () => {
    expect(
      () =>
        new SyncOrtSession({
          nodes: [{ opType: 'NoSuchOp', inputs: ['x'], outputs: ['y'] }],
          inputs: [f32('x')],
          outputs: [f32('y')],
        }),
    ).toThrow(OrtBindingError);
    expect(
      () =>
        new SyncOrtSession({
          nodes: [{ opType: 'NoSuchOp', inputs: ['x'], outputs: ['y'] }],
          inputs: [f32('x')],
          outputs: [f32('y')],
        }),
    ).toThrow(/could not load the NoSuchOp graph/);
  });
});
