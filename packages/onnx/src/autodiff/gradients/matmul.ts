/**
 * MatMul, batched with numpy broadcasting of the batch dims (operands of rank >= 2):
 * `dA = sumTo(dY @ Bᵀ, A)`, `dB = sumTo(Aᵀ @ dY, B)` (ᵀ swaps the last two axes). A rank-2 `B` (a
 * weight) under a batched `A` gets `dB = Gemm(A as [-1,K], dY as [-1,N], transA)`: one product, no
 * batched intermediate to reduce.
 */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';
import type { GradContext } from '../context.js';
import { numel } from '@samtune/tensor';
import { broadcast } from '../context.js';
import { UnsupportedGradientError } from '../errors.js';

/** `x` with its last two axes swapped. */
function swapLast2(ctx: GradContext, x: string): string {
  const r = ctx.shape(x).length;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return ctx.transpose(x, perm);
}

export const matmulGrad: GradientRule = {
  opTypes: ['MatMul'],
  backward(args) {
    const { node, ctx, needs } = args;
    const dy = dy0(args);
    const [a, b] = node.input as [string, string];
    const as = ctx.shape(a);
    const bs = ctx.shape(b);
    if (as.length < 2 || bs.length < 2)
      throw new UnsupportedGradientError(
        `MatMul gradient (node '${node.name ?? ''}'): needs operands of rank >= 2, got [${as.join(',')}] and [${bs.join(',')}]`,
      );
    const batch = broadcast(as.slice(0, -2), bs.slice(0, -2));
    const [m, k] = as.slice(-2) as [number, number];
    const n = bs[bs.length - 1] as number;
    let da: string | undefined;
    let db: string | undefined;
    if (needs[0]) {
      const full = ctx.op('MatMul', [dy, swapLast2(ctx, b)], [...batch, m, k]);
      da = ctx.sumTo(full, as);
    }
    if (needs[1]) {
      // When B = Transpose(W) swaps the last two axes (a linear weight, attention keys), compute
      // dBᵀ directly and hand back its transpose: Transpose's rule then cancels the two, so dW is
      // the product itself, with no copy.
      const bT = ctx.isLast2Swap(b);
      const bsT = [...bs.slice(0, -2), n, k];
      if (bs.length === 2 && as.length > 2) {
        const rows = numel(as.slice(0, -1));
        const a2 = ctx.reshape(a, [rows, k]);
        const dy2 = ctx.reshape(dy, [rows, n]);
        db = bT
          ? ctx.transpose(ctx.op('Gemm', [dy2, a2], [n, k], { transA: 1 }), [1, 0])
          : ctx.op('Gemm', [a2, dy2], [k, n], { transA: 1 });
      } else if (bT) {
        const full = ctx.op('MatMul', [swapLast2(ctx, dy), a], [...batch, n, k]);
        db = swapLast2(ctx, ctx.sumTo(full, bsT));
      } else {
        const full = ctx.op('MatMul', [swapLast2(ctx, a), dy], [...batch, k, n]);
        db = ctx.sumTo(full, bs);
      }
    }
    return [da, db];
  },
};
