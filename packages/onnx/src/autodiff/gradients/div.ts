/** Div (numpy broadcasting), y = a / b: `da = sumTo(dy / b, a)`, `db = -sumTo(dy * y / b, b)` (reuses y). */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const divGrad: GradientRule = {
  opTypes: ['Div'],
  backward(args) {
    const { node, ctx, needs } = args;
    const dy = dy0(args);
    const [a, b] = node.input as [string, string];
    const y = node.output[0] as string;
    const dyOverB = needs[0] || needs[1] ? ctx.div(dy, b) : '';
    return [
      needs[0] ? ctx.sumTo(dyOverB, ctx.shape(a)) : undefined,
      needs[1] ? ctx.neg(ctx.sumTo(ctx.mul(dyOverB, y), ctx.shape(b))) : undefined,
    ];
  },
};
