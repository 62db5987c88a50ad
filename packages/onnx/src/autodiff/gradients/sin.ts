/** Sin: `dx = dy * cos(x)`. */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const sinGrad: GradientRule = {
  opTypes: ['Sin'],
  backward(args) {
    const { node, ctx } = args;
    const dy = dy0(args);
    const x = node.input[0] as string;
    return [ctx.mul(dy, ctx.op('Cos', [x], ctx.shape(x)))];
  },
};
