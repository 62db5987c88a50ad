/** Reciprocal, y = 1/x: `dx = -dy * y^2` (reuses y). */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const reciprocalGrad: GradientRule = {
  opTypes: ['Reciprocal'],
  backward(args) {
    const { node, ctx } = args;
    const dy = dy0(args);
    const y = node.output[0] as string;
    return [ctx.neg(ctx.mul(dy, ctx.mul(y, y)))];
  },
};
