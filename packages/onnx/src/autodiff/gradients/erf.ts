/** Erf (the GELU pattern `0.5*x*(1+erf(x/sqrt2))` differentiates through Div/Add/Mul and this): `dx = dy * 2/sqrt(pi) * exp(-x^2)`. */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const erfGrad: GradientRule = {
  opTypes: ['Erf'],
  backward(args) {
    const { node, ctx } = args;
    const dy = dy0(args);
    const x = node.input[0] as string;
    const e = ctx.op('Exp', [ctx.neg(ctx.mul(x, x))], ctx.shape(x));
    return [ctx.mul(dy, ctx.mul(e, ctx.scalar(2 / Math.sqrt(Math.PI))))];
  },
};
