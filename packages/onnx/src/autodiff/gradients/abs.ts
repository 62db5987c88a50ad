/** Abs: `dx = dy * sign(x)` (0 at x = 0). */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const absGrad: GradientRule = {
  opTypes: ['Abs'],
  backward(args) {
    const { node, ctx } = args;
    const dy = dy0(args);
    const x = node.input[0] as string;
    return [ctx.mul(dy, ctx.op('Sign', [x], ctx.shape(x)))];
  },
};
