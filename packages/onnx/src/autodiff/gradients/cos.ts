/** Cos: `dx = -dy * sin(x)`. */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const cosGrad: GradientRule = {
  opTypes: ['Cos'],
  backward(args) {
    const { node, ctx } = args;
    const dy = dy0(args);
    const x = node.input[0] as string;
    return [ctx.neg(ctx.mul(dy, ctx.op('Sin', [x], ctx.shape(x))))];
  },
};
