/** Tanh: `dx = dy * (1 - y^2)` (reuses y). */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const tanhGrad: GradientRule = {
  opTypes: ['Tanh'],
  backward(args) {
    const { node, ctx } = args;
    const dy = dy0(args);
    const y = node.output[0] as string;
    return [ctx.mul(dy, ctx.sub(ctx.scalar(1), ctx.mul(y, y)))];
  },
};
