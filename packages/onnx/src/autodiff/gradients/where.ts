/** Where(cond, X, Y) with broadcasting: `dX = sumTo(Where(cond, dy, 0), X)`, `dY = sumTo(Where(cond, 0, dy), Y)`; cond gets none. */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const whereGrad: GradientRule = {
  opTypes: ['Where'],
  backward(args) {
    const { node, ctx, needs } = args;
    const dy = dy0(args);
    const [cond, a, b] = node.input as [string, string, string];
    const shape = ctx.shape(dy);
    const zero = ctx.scalar(0);
    return [
      undefined,
      needs[1] ? ctx.sumTo(ctx.op('Where', [cond, dy, zero], shape), ctx.shape(a)) : undefined,
      needs[2] ? ctx.sumTo(ctx.op('Where', [cond, zero, dy], shape), ctx.shape(b)) : undefined,
    ];
  },
};
