import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../ops/backend.js';
import type { OrtKernelCounts, OrtKernelName, OrtKernelsOptions } from './tfjs-ort-kernels.js';
import { installOrtKernels, OrtKernelsInstallError } from './tfjs-ort-kernels.js';
import { canonicalTranspose } from './tfjs-ort-transpose.js';

/** max|got - ref| / max|ref|: the worst error relative to the reference's scale. */
function relErr(ref: tf.Tensor, got: tf.Tensor): number {
  expect(got.shape).toEqual(ref.shape);
  const r = ref.dataSync();
  const g = got.dataSync();
  let maxRef = 0;
  let maxDiff = 0;
  for (let i = 0; i < r.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(r[i] as number));
    maxDiff = Math.max(maxDiff, Math.abs((r[i] as number) - (g[i] as number)));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

/** Runs `f` with the ORT kernels (every size on ORT), returns its result and the kernel counts. */
function withOrt<T>(
  f: () => T,
  opts: OrtKernelsOptions = {},
): { out: T; counts: Record<OrtKernelName, OrtKernelCounts> } {
  const h = installOrtKernels({
    thresholds: {
      minMatMulMacs: 0,
      minTransposedMatMulMacs: 0,
      minSumElements: 0,
      minTileElements: 0,
      minTransposeElements: 0,
      minTransposeRank: 0,
    },
    ...opts,
  });
  expect(h.installed).toBe(true);
  try {
    const out = f();
    return { out, counts: structuredClone(h.counts()) as Record<OrtKernelName, OrtKernelCounts> };
  } finally {
    h.uninstall();
  }
}

/**
 * Stock result (of `reference`, default `f`) vs ORT result of `f`; asserts `kernel` really ran on
 * ORT and returns the relative error.
 */
function compare(kernel: OrtKernelName, f: () => tf.Tensor, reference: () => tf.Tensor = f): number {
  const ref = reference();
  const { out, counts } = withOrt(f);
  expect(counts[kernel].ort).toBeGreaterThan(0);
  expect(counts[kernel].fallback).toBe(0);
  const err = relErr(ref, out);
  tf.dispose([ref, out]);
  return err;
}

const worst: Record<string, number> = {};
function record(name: string, err: number): void {
  worst[name] = Math.max(worst[name] ?? 0, err);
  expect(err).toBeLessThanOrEqual(1e-5);
}

beforeAll(async () => {
  const info = await initBackend('wasm');
  expect(info.name).toBe('wasm');
});

afterAll(() => {
  console.log('worst relative error per kernel (max|ort-stock|/max|stock|):', worst);
});

describe('installOrtKernels: zero-copy heap views', () => {
  it('is correct when the output allocation grows (and detaches) the wasm heap', () => {
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8;
    const before = heap().byteLength;
    // an output larger than the whole current heap forces memory.grow inside makeOutput
    const cols = Math.ceil(before / 4 / 64) + 1024;
    const a = tf.randomNormal([64, 8], 0, 1, 'float32', 1);
    const b = tf.randomNormal([8, cols], 0, 1, 'float32', 2);
    const { out } = withOrt(() => tf.matMul(a, b));
    expect(heap().byteLength).toBeGreaterThan(before);
    const ad = a.dataSync();
    const bd = b.dataSync();
    const od = out.dataSync();
    let maxDiff = 0;
    for (const i of [0, 17, 63]) {
      for (const j of [0, 1, cols >> 1, cols - 1]) {
        let s = 0;
        for (let k = 0; k < 8; k++) s += (ad[i * 8 + k] as number) * (bd[k * cols + j] as number);
        maxDiff = Math.max(maxDiff, Math.abs(s - (od[i * cols + j] as number)));
      }
    }
    expect(maxDiff).toBeLessThan(1e-5);
    tf.dispose([a, b, out]);
  });
});

describe('installOrtKernels: BatchMatMul vs the stock wasm kernel', () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[3, 40, 50], [3, 50, 60], false, false],
    [[3, 40, 50], [3, 60, 50], false, true],
    [[3, 50, 40], [3, 50, 60], true, false],
    [[3, 50, 40], [3, 60, 50], true, true],
    [[40, 50], [4, 60, 50], false, true], // rank-2 a against a batch
    [[5, 50, 40], [50, 60], true, false], // batch a against rank-2 b
    [[1, 33, 17], [6, 17, 9], false, false], // batch 1 broadcast
    [[16, 256, 16], [16, 7, 16], false, true], // attention-like: q @ k^T
  ];
  for (const [sa, sb, ta, tb] of cases) {
    it(`[${sa}] x [${sb}] transposeA=${ta} transposeB=${tb}`, () => {
      const a = tf.randomNormal(sa, 0, 1, 'float32', 3);
      const b = tf.randomNormal(sb, 0, 1, 'float32', 4);
      record(
        'BatchMatMul',
        compare('BatchMatMul', () => tf.matMul(a, b, ta, tb)),
      );
      tf.dispose([a, b]);
    });
  }

  it('broadcasts multi-dimensional batches ([2,1,40,50] x [3,50,60] → [2,3,40,60]) like numpy', () => {
    // the stock kernels (wasm and cpu) flatten batch dims and get this case wrong, so the reference
    // is the stock kernel on explicitly broadcast inputs
    const a = tf.randomNormal([2, 1, 40, 50], 0, 1, 'float32', 3);
    const b = tf.randomNormal([3, 50, 60], 0, 1, 'float32', 4);
    const reference = () =>
      tf.tidy(() => tf.matMul(tf.broadcastTo(a, [2, 3, 40, 50]), tf.broadcastTo(b, [2, 3, 50, 60])));
    record(
      'BatchMatMul',
      compare('BatchMatMul', () => tf.matMul(a, b), reference),
    );
    tf.dispose([a, b]);
  });

  it('keeps tiny products on the stock kernel under the default threshold', () => {
    const a = tf.ones([4, 4]);
    const h = installOrtKernels();
    const y = tf.matMul(a, a);
    expect(Array.from(y.dataSync())).toEqual(new Array(16).fill(4));
    expect(h.counts().BatchMatMul).toEqual({ ort: 0, fallback: 1 });
    h.uninstall();
    tf.dispose([a, y]);
  });
});

describe('installOrtKernels: _FusedMatMul vs the stock wasm kernels', () => {
  const activations = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;
  type Act = (typeof activations)[number];
  const applyAct = (x: tf.Tensor, act: Act, slope: tf.Tensor): tf.Tensor => {
    if (act === 'relu') return tf.relu(x);
    if (act === 'relu6') return tf.clipByValue(x, 0, 6);
    if (act === 'elu') return tf.elu(x);
    if (act === 'sigmoid') return tf.sigmoid(x);
    if (act === 'leakyrelu') return tf.leakyRelu(x, 0.1);
    if (act === 'prelu') return tf.prelu(x, slope);
    return x;
  };
  for (const activation of activations) {
    for (const withBias of [false, true]) {
      it(`${withBias ? 'bias + ' : ''}${activation}`, () => {
        const a = tf.mul(tf.randomNormal([2, 30, 40], 0, 1, 'float32', 5), 0.5);
        const b = tf.randomNormal([2, 40, 20], 0, 1, 'float32', 6);
        const bias = tf.randomNormal([20], 0, 1, 'float32', 7);
        const slope = tf.randomUniform([20], 0.05, 0.5, 'float32', 8);
        const f = () =>
          tf.fused.matMul({
            a,
            b,
            activation,
            leakyreluAlpha: 0.1,
            ...(withBias ? { bias } : {}),
            ...(activation === 'prelu' ? { preluActivationWeights: slope } : {}),
          });
        // the stock wasm _FusedMatMul adds a rank-1 bias wrongly to every row after the first of
        // each batch (tfjs 4.22), so with a bias the reference is the stock unfused composition
        const reference = withBias
          ? () => tf.tidy(() => applyAct(tf.add(tf.matMul(a, b), bias), activation, slope))
          : f;
        record('_FusedMatMul', compare('_FusedMatMul', f, reference));
        tf.dispose([a, b, bias, slope]);
      });
    }
  }

  it('without bias, transposed, batch-broadcast', () => {
    const a = tf.randomNormal([1, 40, 30], 0, 1, 'float32', 9);
    const b = tf.randomNormal([3, 20, 40], 0, 1, 'float32', 10);
    record(
      '_FusedMatMul',
      compare('_FusedMatMul', () => tf.fused.matMul({ a, b, transposeA: true, transposeB: true, activation: 'relu' })),
    );
    tf.dispose([a, b]);
  });
});

describe('installOrtKernels: Sum and Tile vs the stock wasm kernels', () => {
  const sumCases: [number[], number | number[] | null, boolean][] = [
    [[4, 5, 6, 7], 0, false],
    [[4, 5, 6, 7], [1, 3], false],
    [[4, 5, 6, 7], [3, 1], true],
    [[4, 5, 6, 7], -1, true],
    [[4, 5, 6, 7], null, false],
    [[4, 5, 6, 7], [0, 1, 2, 3], true],
    [[2, 4096, 32], [0, 1], false], // the bias-gradient pattern of a broadcast add
  ];
  for (const [shape, axis, keepDims] of sumCases) {
    it(`sum([${shape}], axis=${JSON.stringify(axis)}, keepDims=${keepDims})`, () => {
      const x = tf.randomNormal(shape, 0, 1, 'float32', 11);
      record(
        'Sum',
        compare('Sum', () => tf.sum(x, axis ?? undefined, keepDims)),
      );
      tf.dispose(x);
    });
  }

  it('leaves int32 sums to the stock kernel', () => {
    const x = tf.range(0, 24, 1, 'int32').reshape([2, 3, 4]);
    const { out, counts } = withOrt(() => tf.sum(x, 1));
    expect(Array.from(out.dataSync())).toEqual([12, 15, 18, 21, 48, 51, 54, 57]);
    expect(counts.Sum).toEqual({ ort: 0, fallback: 1 });
    tf.dispose([x, out]);
  });

  const tileCases: [number[], number[]][] = [
    [
      [3, 1, 5],
      [2, 4, 1],
    ],
    [[7], [5]],
    [
      [2, 3, 4, 5],
      [1, 2, 1, 3],
    ],
  ];
  for (const [shape, reps] of tileCases) {
    it(`tile([${shape}], [${reps}])`, () => {
      const x = tf.randomNormal(shape, 0, 1, 'float32', 12);
      const err = compare('Tile', () => tf.tile(x, reps));
      expect(err).toBe(0); // a copy: bit-exact
      tf.dispose(x);
    });
  }
});

describe('installOrtKernels: Transpose vs the stock wasm kernel', () => {
  it('simplifies permutations: drops size-1 dims, merges dims that stay adjacent', () => {
    expect(canonicalTranspose([1, 64, 64, 32, 2, 2], [0, 3, 1, 4, 2, 5])).toEqual({
      shape: [64, 64, 32, 2, 2],
      perm: [2, 0, 3, 1, 4],
    });
    expect(canonicalTranspose([2, 3, 4, 5], [0, 2, 3, 1])).toEqual({ shape: [2, 3, 20], perm: [0, 2, 1] });
    expect(canonicalTranspose([2, 3, 4], [0, 1, 2])).toEqual({ shape: [24], perm: [0] });
    expect(canonicalTranspose([1, 1], [1, 0])).toEqual({ shape: [], perm: [] });
  });

  const cases: [number[], number[]][] = [
    [
      [1, 16, 16, 8, 2, 2],
      [0, 3, 1, 4, 2, 5],
    ], // ConvTranspose2d pixel shuffle
    [
      [2, 8, 16, 2, 16, 2],
      [0, 2, 4, 1, 3, 5],
    ],
    [
      [3, 4, 5, 6, 7],
      [4, 2, 0, 3, 1],
    ],
    [
      [2, 8, 64, 16],
      [0, 2, 1, 3],
    ], // rank 4: only on ORT because the test lowers minTransposeRank
    [
      [5, 1, 7],
      [2, 1, 0],
    ],
  ];
  for (const [shape, perm] of cases) {
    it(`transpose([${shape}], [${perm}])`, () => {
      const x = tf.randomNormal(shape, 0, 1, 'float32', 18);
      expect(compare('Transpose', () => tf.transpose(x, perm))).toBe(0); // a copy: bit-exact
      tf.dispose(x);
    });
  }

  it('keeps rank <= 4 transposes on the stock kernel by default', () => {
    const x = tf.randomNormal([2, 8, 64, 16]);
    const h = installOrtKernels();
    tf.transpose(x, [0, 2, 1, 3]).dispose();
    tf.tidy(() => {
      tf.transpose(tf.reshape(x, [2, 8, 4, 16, 16]), [0, 3, 1, 4, 2]);
    });
    expect(h.counts().Transpose).toEqual({ ort: 1, fallback: 1 });
    h.uninstall();
    x.dispose();
  });
});

describe('installOrtKernels: gradients, memory, lifecycle', () => {
  it('gives the same MLP gradients with and without the ORT kernels', () => {
    const x = tf.randomNormal([64, 32], 0, 1, 'float32', 13);
    const vars = {
      w1: tf.variable(tf.randomNormal([32, 48], 0, 0.2, 'float32', 14), true, 'w1'),
      b1: tf.variable(tf.randomNormal([48], 0, 0.1, 'float32', 15), true, 'b1'),
      w2: tf.variable(tf.randomNormal([8, 48], 0, 0.2, 'float32', 16), true, 'w2'),
      b2: tf.variable(tf.randomNormal([1, 8], 0, 0.1, 'float32', 17), true, 'b2'),
    };
    const loss = () => {
      const h = tf.relu(tf.add(tf.matMul(x, vars.w1), vars.b1));
      const y = tf.add(tf.matMul(h, vars.w2, false, true), tf.tile(vars.b2, [64, 1]));
      return tf.mean(tf.square(tf.transpose(y))) as tf.Scalar;
    };
    const ref = tf.variableGrads(loss);
    const { out, counts } = withOrt(() => tf.variableGrads(loss));
    expect(counts.BatchMatMul.ort).toBeGreaterThanOrEqual(5); // 2 forward + 3 backward (no gradient for the input x)
    expect(counts.Sum.ort).toBeGreaterThan(0);
    expect(counts.Tile.ort).toBeGreaterThan(0);
    expect(counts.Transpose.ort).toBeGreaterThan(0);
    expect(relErr(ref.value, out.value)).toBeLessThanOrEqual(1e-5);
    for (const name of Object.keys(vars)) {
      const err = relErr(ref.grads[name] as tf.Tensor, out.grads[name] as tf.Tensor);
      record('MLP grads', err);
    }
    tf.dispose([
      x,
      ref.value,
      out.value,
      ...Object.values(ref.grads),
      ...Object.values(out.grads),
      ...Object.values(vars),
    ]);
  });

  it('leaks no tensors and no wasm buffers', () => {
    const a = tf.randomNormal([2, 64, 32]);
    const b = tf.randomNormal([2, 32, 48]);
    const step = () =>
      tf.tidy(() => {
        const y = tf.tile(tf.matMul(a, b), [1, 2, 1]);
        return tf.sum(tf.fused.matMul({ a: y, b: tf.transpose(y, [0, 2, 1]), activation: 'relu' }), [0, 2]);
      });
    const { out } = withOrt(() => {
      step().dispose(); // warm: sessions built
      const before = tf.memory().numTensors;
      const beforeIds = tf.backend().numDataIds();
      for (let i = 0; i < 3; i++) step().dispose();
      return { tensors: tf.memory().numTensors - before, ids: tf.backend().numDataIds() - beforeIds };
    });
    expect(out).toEqual({ tensors: 0, ids: 0 });
    tf.dispose([a, b]);
  });

  it('restores the stock kernels on uninstall and refuses a second install', () => {
    const stock = tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc;
    const h = installOrtKernels();
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc).not.toBe(stock);
    expect(() => installOrtKernels()).toThrow(OrtKernelsInstallError);
    h.uninstall();
    h.uninstall(); // idempotent
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc).toBe(stock);
    expect(() => installOrtKernels({ kernels: ['Conv2D' as OrtKernelName] })).toThrow(/unknown kernel 'Conv2D'/);
  });

  it('installs nothing when the active backend is not wasm', async () => {
    await tf.setBackend('cpu');
    try {
      const h = installOrtKernels();
      expect(h.installed).toBe(false);
      expect(h.reason).toMatch(/active tfjs backend is 'cpu', expected 'wasm'/);
      h.uninstall();
    } finally {
      await tf.setBackend('wasm');
    }
  });
});
