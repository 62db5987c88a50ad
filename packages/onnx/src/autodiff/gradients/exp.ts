/** Exp: `dx = dy * y` (reuses y). */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const expGrad: GradientRule = {
  opTypes: ['Exp'],
  backward(args) {
    const { node, ctx } = args;
    const dy = dy0(args);
    const y = node.output[0] as string;
    return [ctx.mul(dy, y)];
  },
};
