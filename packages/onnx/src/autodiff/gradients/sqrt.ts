/** Sqrt: `dx = dy * 0.5 / y` (reuses y). */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const sqrtGrad: GradientRule = {
  opTypes: ['Sqrt'],
  backward(args) {
    const { node, ctx } = args;
    const dy = dy0(args);
    const y = node.output[0] as string;
    return [ctx.div(ctx.mul(dy, ctx.scalar(0.5)), y)];
  },
};
