/**
 * Gemm, `Y = alpha * A' @ B' + beta * C` (A' = Aᵀ if transA, B' likewise; C broadcast):
 * `dA = alpha * dY @ B'ᵀ` (or its transpose), `dB = alpha * A'ᵀ @ dY` (or its transpose), each one
 * Gemm with the right trans flags; `dC = beta * sumTo(dY, C)`.
 */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';
import { attrFloat, attrInt } from '../context.js';

export const gemmGrad: GradientRule = {
  opTypes: ['Gemm'],
  backward(args) {
    const { node, ctx, needs } = args;
    const dy = dy0(args);
    const [a, b, c] = node.input as [string, string, string?];
    const alpha = attrFloat(node, 'alpha', 1);
    const beta = attrFloat(node, 'beta', 1);
    const ta = attrInt(node, 'transA', 0);
    const tb = attrInt(node, 'transB', 0);
    const fa = { alpha: { f: alpha } };
    const da = needs[0]
      ? ta === 0
        ? ctx.op('Gemm', [dy, b], ctx.shape(a), { ...fa, transB: tb === 0 ? 1 : 0 })
        : ctx.op('Gemm', [b, dy], ctx.shape(a), { ...fa, transA: tb, transB: 1 })
      : undefined;
    const db = needs[1]
      ? tb === 0
        ? ctx.op('Gemm', [a, dy], ctx.shape(b), { ...fa, transA: ta === 0 ? 1 : 0 })
        : ctx.op('Gemm', [dy, a], ctx.shape(b), { ...fa, transA: 1, transB: ta })
      : undefined;
    let dc: string | undefined;
    if (c && needs[2]) {
      const s = ctx.sumTo(dy, ctx.shape(c));
      dc = beta === 1 ? s : ctx.mul(s, ctx.scalar(beta));
    }
    return [da, db, dc];
  },
};
