/** Sub (numpy broadcasting): `da = sumTo(dy, a)`, `db = -sumTo(dy, b)`. */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const subGrad: GradientRule = {
  opTypes: ['Sub'],
  backward(args) {
    const { node, ctx, needs } = args;
    const dy = dy0(args);
    const [a, b] = node.input as [string, string];
    return [
      needs[0] ? ctx.sumTo(dy, ctx.shape(a)) : undefined,
      needs[1] ? ctx.neg(ctx.sumTo(dy, ctx.shape(b))) : undefined,
    ];
  },
};
