/** Softplus, y = log(1 + e^x): `dx = dy * sigmoid(x)`. */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const softplusGrad: GradientRule = {
  opTypes: ['Softplus'],
  backward(args) {
    const { node, ctx } = args;
    const dy = dy0(args);
    const x = node.input[0] as string;
    return [ctx.mul(dy, ctx.op('Sigmoid', [x], ctx.shape(x)))];
  },
};
