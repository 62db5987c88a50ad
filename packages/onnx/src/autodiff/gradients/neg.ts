/** Neg: `dx = -dy`. */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const negGrad: GradientRule = {
  opTypes: ['Neg'],
  backward(args) {
    const { ctx } = args;
    const dy = dy0(args);
    return [ctx.neg(dy)];
  },
};
