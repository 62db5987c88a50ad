/** Sigmoid: `dx = dy * y * (1 - y)` (reuses y). */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const sigmoidGrad: GradientRule = {
  opTypes: ['Sigmoid'],
  backward(args) {
    const { node, ctx } = args;
    const dy = dy0(args);
    const y = node.output[0] as string;
    return [ctx.mul(dy, ctx.mul(y, ctx.sub(ctx.scalar(1), y)))];
  },
};
