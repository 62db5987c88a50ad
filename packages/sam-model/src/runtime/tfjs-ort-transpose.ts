/**
 * tfjs `Transpose` on onnxruntime, for the high-rank permutations where the stock wasm kernel falls
 * back to a slow generic loop (rank >= 5 after simplification: e.g. the pixel-shuffle
 * `[B,h,w,C,2,2] -> [B,C,h,2,w,2]` of ConvTranspose2d, ~15x faster on ORT). Low-rank transposes
 * keep the stock kernel, which has fast 2-4D paths. One session per simplified permutation.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import type { KernelArgs, OrtKernelContext } from './tfjs-ort-kernel-context.js';
import { heapF32, isWasmBackend, sizeOf } from './tfjs-ort-heap.js';
import { ONNX_FLOAT } from '@samtune/onnx';

/** A permutation with size-1 dims dropped and runs of dims that stay adjacent merged. */
export interface CanonicalTranspose {
  readonly shape: number[];
  readonly perm: number[];
}

/**
 * Simplifies `transpose(x: shape, perm)` to an equivalent one of the lowest rank: size-1 dims are
 * dropped, and input dims `i, i+1` that are also consecutive in the output are merged. The data
 * layout of input and output is unchanged, so the result can run on the same buffers.
 */
export function canonicalTranspose(shape: readonly number[], perm: readonly number[]): CanonicalTranspose {
  const kept = shape.map((d, i) => (d === 1 ? -1 : i)).filter((i) => i >= 0);
  const newIndex = new Map(kept.map((i, j) => [i, j]));
  const s = kept.map((i) => shape[i] as number);
  const p = perm.filter((i) => shape[i] !== 1).map((i) => newIndex.get(i) as number);
  // groups of input dims that stay consecutive in the output, in output order
  const groups: number[][] = [];
  for (const i of p) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1] === i - 1) last.push(i);
    else groups.push([i]);
  }
  const byStart = [...groups].sort((g, h) => (g[0] as number) - (h[0] as number));
  return {
    shape: byStart.map((g) => sizeOf(g.map((i) => s[i] as number))),
    perm: groups.map((g) => byStart.indexOf(g)),
  };
}

/** ORT body of tfjs `Transpose` (input x; attrs perm). */
export function ortTranspose(ctx: OrtKernelContext, args: KernelArgs): TensorInfo | undefined {
  const { backend, inputs, attrs } = args;
  const x = inputs.x;
  const perm = attrs?.perm as readonly number[] | undefined;
  if (!x || !perm || !isWasmBackend(backend) || x.dtype !== 'float32' || perm.length !== x.shape.length)
    return undefined;
  const n = sizeOf(x.shape);
  if (n === 0 || n < ctx.thresholds.minTransposeElements) return undefined;
  const c = canonicalTranspose(x.shape, perm);
  // rank <= 1 after simplification is a plain copy (identity permutation): the stock kernel clones
  if (c.perm.length < Math.max(2, ctx.thresholds.minTransposeRank)) return undefined;
  const outShape = perm.map((i) => x.shape[i] as number);
  const session = ctx.sessions.get(`Transpose|${c.perm.join(',')}`, () => ({
    nodes: [{ opType: 'Transpose', inputs: ['x'], outputs: ['y'], attrs: { perm: { kind: 'ints', value: c.perm } } }],
    inputs: [{ name: 'x', elemType: ONNX_FLOAT }],
    outputs: [{ name: 'y', elemType: ONNX_FLOAT }],
  }));
  const out = backend.makeOutput(outShape, 'float32');
  session.run(
    { x: { data: heapF32(backend, x), dims: c.shape } },
    { y: { data: heapF32(backend, out), dims: c.perm.map((i) => c.shape[i] as number) } },
  );
  return out;
}
