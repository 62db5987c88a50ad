/**
 * Test helper: checks `buildGradientGraph` against central finite differences, both graphs run on
 * onnxruntime-node. The loss is `sum(w * y)` for a fixed random `w` (computed in float64 for the
 * differences), so every element of every output's gradient is exercised.
 */
import { createSession, type Session } from '../../session.js';
import { OnnxGraphBuilder } from '../../graph.js';
import { OnnxGraphOps, type OnnxValue } from '../../onnx-ops.js';
import { numel, type FloatTensor, type HostTensor } from '@samtune/tensor';
import { buildGradientGraph, type GradientGraph } from '../build-gradient-graph.js';

/** A seeded PRNG (mulberry32) in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TensorSpec {
  readonly shape: readonly number[];
  /** Explicit values; default uniform in [-1, 1] (shaped by `kind`). */
  readonly data?: Float32Array;
  /** `positive`: in [0.5, 1.5]; `awayFromZero`: |v| in [0.2, 1] (kinks at 0). */
  readonly kind?: 'positive' | 'awayFromZero';
}

export interface GradCase {
  readonly name: string;
  /** Graph inputs. */
  readonly inputs?: Readonly<Record<string, TensorSpec>>;
  /** Initializers (weights), read with `ops.param`. */
  readonly params?: Readonly<Record<string, TensorSpec>>;
  /** Records the forward op(s); returns the output. */
  build(ops: OnnxGraphOps, v: Readonly<Record<string, OnnxValue>>): OnnxValue;
  /** Values to differentiate (default: every input and param). */
  readonly wrt?: readonly string[];
  readonly seed?: number;
  /** Finite-difference step (default 1e-2). */
  readonly step?: number;
  /** Tolerance `atol + rtol * max|fd|` (defaults 5e-4, 5e-3). */
  readonly atol?: number;
  readonly rtol?: number;
}

export interface GradCheckResult {
  readonly worst: number;
  readonly perValue: Record<string, { maxAbsDiff: number; maxFd: number; ok: boolean }>;
  readonly graph: GradientGraph;
}

function sample(spec: TensorSpec, next: () => number): Float32Array {
  if (spec.data) return spec.data;
  const n = numel(spec.shape);
  return Float32Array.from({ length: n }, () => {
    const u = next();
    if (spec.kind === 'positive') return 0.5 + u;
    if (spec.kind === 'awayFromZero') return (u < 0.5 ? -1 : 1) * (0.2 + 0.8 * ((2 * u) % 1));
    return 2 * u - 1;
  });
}

const host = (data: Float32Array, shape: readonly number[]): FloatTensor => ({ dtype: 'float32', shape, data });

/** Runs the check; returns per-value errors (the caller asserts `ok`). */
export async function gradCheck(c: GradCase, seed = 1): Promise<GradCheckResult> {
  const next = rng(seed);
  const values = new Map<string, FloatTensor>();
  for (const [k, s] of Object.entries({ ...c.inputs, ...c.params })) values.set(k, host(sample(s, next), s.shape));
  const paramNames = Object.keys(c.params ?? {});
  const inputNames = Object.keys(c.inputs ?? {});
  const wrt = c.wrt ?? [...inputNames, ...paramNames];

  // Forward graph for the differences: params become inputs so they can be perturbed.
  const fops = new OnnxGraphOps(new Map(), new OnnxGraphBuilder({ name: `${c.name}_fwd` }));
  const fv: Record<string, OnnxValue> = {};
  for (const k of [...inputNames, ...paramNames]) fv[k] = fops.input(k, (values.get(k) as FloatTensor).shape);
  const fy = c.build(fops, fv);
  fops.output('y', fy);
  const ySize = numel(fy.shape);
  const w = Float32Array.from({ length: ySize }, () => 2 * next() - 1);

  // Gradient graph: params are initializers, inputs stay inputs.
  const params = new Map<string, HostTensor>(paramNames.map((k) => [k, values.get(k) as FloatTensor]));
  const gops = new OnnxGraphOps(params, new OnnxGraphBuilder({ name: `${c.name}_grad` }), {
    transposeWeightsAtBuild: false,
  });
  const gv: Record<string, OnnxValue> = {};
  for (const k of inputNames) gv[k] = gops.input(k, (values.get(k) as FloatTensor).shape);
  for (const k of paramNames) gv[k] = gops.param(k);
  const gy = c.build(gops, gv);
  const wc = gops.constant(w, gy.shape, 'loss_weights');
  const prod = gops.mul(gy, wc);
  const loss = gops.emit('ReduceSum', [prod], [], { keepdims: 0 });
  const graph = buildGradientGraph(gops.builder, { loss: loss.name, wrt, seed: c.seed ?? 1, addOutputs: true });

  const fwd = await createSession(fops.builder.toModelBytes(), { intraOpNumThreads: 1 });
  const bwd = await createSession(gops.builder.toModelBytes(), { intraOpNumThreads: 1 });
  try {
    const feedsOf = (names: readonly string[]): Record<string, FloatTensor> =>
      Object.fromEntries(names.map((k) => [k, values.get(k) as FloatTensor]));
    const grads = await bwd.run(feedsOf(inputNames));
    const h = c.step ?? 1e-2;
    const lossAt = async (s: Session): Promise<number> => {
      const y = (await s.run(feedsOf([...inputNames, ...paramNames]), ['y'])).y as FloatTensor;
      let acc = 0;
      for (let i = 0; i < ySize; i++) acc += (w[i] as number) * (y.data[i] as number);
      return acc;
    };
    const perValue: GradCheckResult['perValue'] = {};
    let worst = 0;
    for (const k of wrt) {
      const t = values.get(k) as FloatTensor;
      const g = grads[graph.gradients.get(k) as string] as FloatTensor;
      const orig = t.data.slice();
      let maxAbsDiff = 0;
      let maxFd = 0;
      for (let i = 0; i < t.data.length; i++) {
        t.data[i] = (orig[i] as number) + h;
        const up = await lossAt(fwd);
        t.data[i] = (orig[i] as number) - h;
        const down = await lossAt(fwd);
        t.data[i] = orig[i] as number;
        const fd = ((up - down) / (2 * h)) * (c.seed ?? 1);
        maxFd = Math.max(maxFd, Math.abs(fd));
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(fd - (g.data[i] as number)));
      }
      const bound = (c.atol ?? 5e-4) + (c.rtol ?? 5e-3) * maxFd;
      perValue[k] = { maxAbsDiff, maxFd, ok: maxAbsDiff <= bound && g.data.length === t.data.length };
      worst = Math.max(worst, maxAbsDiff / bound);
    }
    return { worst, perValue, graph };
  } finally {
    await fwd.release();
    await bwd.release();
  }
}
