/** Mul (numpy broadcasting): `da = sumTo(dy * b, a)`, `db = sumTo(dy * a, b)`. */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const mulGrad: GradientRule = {
  opTypes: ['Mul'],
  backward(args) {
    const { node, ctx, needs } = args;
    const dy = dy0(args);
    const [a, b] = node.input as [string, string];
    return [
      needs[0] ? ctx.sumTo(ctx.mul(dy, b), ctx.shape(a)) : undefined,
      needs[1] ? ctx.sumTo(ctx.mul(dy, a), ctx.shape(b)) : undefined,
    ];
  },
};
