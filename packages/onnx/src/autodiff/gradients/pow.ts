/**
 * Pow, y = a^b (broadcasting): `da = sumTo(dy * b * a^(b-1), a)`; for a constant exponent `b - 1` is
 * folded at build time. `db = sumTo(dy * y * log(a), b)` (defined for a > 0).
 */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const powGrad: GradientRule = {
  opTypes: ['Pow'],
  backward(args) {
    const { node, ctx, needs } = args;
    const dy = dy0(args);
    const [a, b] = node.input as [string, string];
    let da: string | undefined;
    if (needs[0]) {
      const c = ctx.constFloats(b);
      if (c && c.length === 1) {
        const p = c[0] as number;
        const factor =
          p === 2
            ? ctx.mul(a, ctx.scalar(2))
            : ctx.mul(ctx.op('Pow', [a, ctx.scalar(p - 1)], ctx.shape(a)), ctx.scalar(p));
        da = ctx.sumTo(ctx.mul(dy, factor), ctx.shape(a));
      } else {
        const bm1 = ctx.sub(b, ctx.scalar(1));
        const pw = ctx.op('Pow', [a, bm1], ctx.shape(node.output[0] as string));
        da = ctx.sumTo(ctx.mul(ctx.mul(dy, b), pw), ctx.shape(a));
      }
    }
    const db = needs[1]
      ? ctx.sumTo(ctx.mul(ctx.mul(dy, node.output[0] as string), ctx.op('Log', [a], ctx.shape(a))), ctx.shape(b))
      : undefined;
    return [da, db];
  },
};
