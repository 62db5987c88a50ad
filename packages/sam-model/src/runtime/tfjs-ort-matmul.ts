/**
 * tfjs `BatchMatMul` and `_FusedMatMul` on onnxruntime: one com.microsoft `FusedMatMul` session per
 * (transposeA, transposeB) — and per bias/activation for the fused kernel — whose inputs have no
 * declared shape, so one session serves every shape, rank and broadcast batch. Inputs and the output
 * are views on the wasm heap (zero copy). Returns undefined (stock kernel runs) for non-float32
 * inputs, empty tensors, shapes the stock kernel would reject, and matmuls under the size threshold.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import { broadcast_util } from '@tensorflow/tfjs';
import type { KernelArgs, OrtKernelContext } from './tfjs-ort-kernel-context.js';
import { heapF32, isWasmBackend, sizeOf } from './tfjs-ort-heap.js';
import type { SmallModelSpec, SmallNode, OrtFeed } from '@samtune/onnx';
import { ONNX_FLOAT } from '@samtune/onnx';

/** Output shape and size of `a @ b` with tfjs' transpose flags and numpy batch broadcasting. */
export interface MatMulGeometry {
  readonly outShape: number[];
  /** Multiply-adds: batch * M * N * K. */
  readonly macs: number;
}

/** Geometry of a (batched) matmul, or undefined when tfjs would reject the shapes. */
export function matMulGeometry(
  a: readonly number[],
  b: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): MatMulGeometry | undefined {
  const ra = a.length;
  const rb = b.length;
  if (ra < 2 || rb < 2) return undefined;
  const m = (transposeA ? a[ra - 1] : a[ra - 2]) as number;
  const k = (transposeA ? a[ra - 2] : a[ra - 1]) as number;
  const kb = (transposeB ? b[rb - 1] : b[rb - 2]) as number;
  const n = (transposeB ? b[rb - 2] : b[rb - 1]) as number;
  if (k !== kb) return undefined;
  let batch: number[];
  try {
    batch = broadcast_util.assertAndGetBroadcastShape(a.slice(0, -2), b.slice(0, -2));
  } catch {
    return undefined;
  }
  const outShape = [...batch, m, n];
  return { outShape, macs: sizeOf(outShape) * k };
}

/** True when `shape` broadcasts into `target` without changing it (numpy rules, right-aligned). */
function broadcastsInto(shape: readonly number[], target: readonly number[]): boolean {
  if (shape.length > target.length) return false;
  const off = target.length - shape.length;
  return shape.every((d, i) => d === 1 || d === target[off + i]);
}

function matMulNode(transposeA: boolean, transposeB: boolean, output: string): SmallNode {
  return {
    opType: 'FusedMatMul',
    domain: 'com.microsoft',
    inputs: ['a', 'b'],
    outputs: [output],
    attrs: {
      transA: { kind: 'int', value: transposeA ? 1 : 0 },
      transB: { kind: 'int', value: transposeB ? 1 : 0 },
      alpha: { kind: 'float', value: 1 },
    },
  };
}

const f32 = (name: string) => ({ name, elemType: ONNX_FLOAT });

/** Runs `a @ b` (+ optional graph tail) on ORT into a fresh wasm output; undefined = decline. */
function runMatMul(
  ctx: OrtKernelContext,
  args: KernelArgs,
  key: string,
  spec: () => SmallModelSpec,
  extra: readonly { name: string; t: TensorInfo }[] = [],
  scalars: Readonly<Record<string, number>> = {},
): TensorInfo | undefined {
  const { backend, inputs, attrs } = args;
  const a = inputs.a;
  const b = inputs.b;
  if (!a || !b || !isWasmBackend(backend) || a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const tA = !!attrs?.transposeA;
  const tB = !!attrs?.transposeB;
  const geo = matMulGeometry(a.shape, b.shape, tA, tB);
  const minMacs = tA || tB ? ctx.thresholds.minTransposedMatMulMacs : ctx.thresholds.minMatMulMacs;
  if (!geo || geo.macs < minMacs || sizeOf(a.shape) === 0 || sizeOf(b.shape) === 0) return undefined;
  for (const e of extra) if (e.t.dtype !== 'float32' || !broadcastsInto(e.t.shape, geo.outShape)) return undefined;
  const session = ctx.sessions.get(`${key}|${tA ? 1 : 0}${tB ? 1 : 0}`, spec);
  const out = backend.makeOutput(geo.outShape, 'float32');
  // views AFTER makeOutput: the allocation may have grown (and detached) the heap
  const feeds: Record<string, OrtFeed> = {
    a: { data: heapF32(backend, a), dims: a.shape },
    b: { data: heapF32(backend, b), dims: b.shape },
  };
  for (const e of extra) feeds[e.name] = { data: heapF32(backend, e.t), dims: e.t.shape };
  for (const [name, v] of Object.entries(scalars)) feeds[name] = { data: Float32Array.of(v), dims: [] };
  session.run(feeds, { y: { data: heapF32(backend, out), dims: geo.outShape } });
  return out;
}

/** ORT body of tfjs `BatchMatMul` (inputs a, b; attrs transposeA, transposeB). */
export function ortBatchMatMul(ctx: OrtKernelContext, args: KernelArgs): TensorInfo | undefined {
  const tA = !!args.attrs?.transposeA;
  const tB = !!args.attrs?.transposeB;
  return runMatMul(ctx, args, 'BatchMatMul', () => ({
    nodes: [matMulNode(tA, tB, 'y')],
    inputs: [f32('a'), f32('b')],
    outputs: [f32('y')],
  }));
}

/** The ONNX node(s) computing a tfjs fused activation of `x` into `y`, or undefined if unsupported. */
function activationNodes(
  activation: string,
  x: string,
  alpha: number,
): { nodes: SmallNode[]; inputs: string[] } | undefined {
  switch (activation) {
    case 'linear':
      return { nodes: [{ opType: 'Identity', inputs: [x], outputs: ['y'] }], inputs: [] };
    case 'relu':
      return { nodes: [{ opType: 'Relu', inputs: [x], outputs: ['y'] }], inputs: [] };
    case 'relu6':
      return { nodes: [{ opType: 'Clip', inputs: [x, 'lo', 'hi'], outputs: ['y'] }], inputs: ['lo', 'hi'] };
    case 'sigmoid':
      return { nodes: [{ opType: 'Sigmoid', inputs: [x], outputs: ['y'] }], inputs: [] };
    case 'elu':
      return {
        nodes: [{ opType: 'Elu', inputs: [x], outputs: ['y'], attrs: { alpha: { kind: 'float', value: 1 } } }],
        inputs: [],
      };
    case 'leakyrelu':
      return {
        nodes: [
          { opType: 'LeakyRelu', inputs: [x], outputs: ['y'], attrs: { alpha: { kind: 'float', value: alpha } } },
        ],
        inputs: [],
      };
    case 'prelu':
      return { nodes: [{ opType: 'PRelu', inputs: [x, 'slope'], outputs: ['y'] }], inputs: ['slope'] };
    default:
      return undefined;
  }
}

/**
 * ORT body of tfjs `_FusedMatMul`: `act(a @ b + bias)` (inputs a, b, bias?, preluActivationWeights?;
 * attrs transposeA, transposeB, activation, leakyreluAlpha). Bias and PReLU weights must broadcast
 * into the product's shape; unknown activations decline.
 */
export function ortFusedMatMul(ctx: OrtKernelContext, args: KernelArgs): TensorInfo | undefined {
  const { inputs, attrs } = args;
  const activation = String(attrs?.activation ?? 'linear');
  // the stock wasm kernel uses `leakyreluAlpha || 0`; keep its semantics
  const alpha = Number(attrs?.leakyreluAlpha ?? 0) || 0;
  const bias = inputs.bias ?? undefined;
  const slope = inputs.preluActivationWeights ?? undefined;
  const hasBias = !!bias;
  const mmOut = hasBias ? 'mm' : 'z';
  const act = activationNodes(activation, 'z', alpha);
  if (!act || (activation === 'prelu' && !slope)) return undefined;
  const tA = !!attrs?.transposeA;
  const tB = !!attrs?.transposeB;
  const extra: { name: string; t: TensorInfo }[] = [];
  if (bias) extra.push({ name: 'bias', t: bias });
  if (activation === 'prelu' && slope) extra.push({ name: 'slope', t: slope });
  const key = `_FusedMatMul|${hasBias ? 'bias' : ''}|${activation}|${activation === 'leakyrelu' ? alpha : ''}`;
  const spec = (): SmallModelSpec => ({
    nodes: [
      matMulNode(tA, tB, mmOut),
      ...(hasBias ? [{ opType: 'Add', inputs: ['mm', 'bias'], outputs: ['z'] }] : []),
      ...act.nodes,
    ],
    inputs: [f32('a'), f32('b'), ...extra.map((e) => f32(e.name)), ...act.inputs.filter((n) => n !== 'slope').map(f32)],
    outputs: [f32('y')],
  });
  return runMatMul(ctx, args, key, spec, extra, activation === 'relu6' ? { lo: 0, hi: 6 } : {});
}
