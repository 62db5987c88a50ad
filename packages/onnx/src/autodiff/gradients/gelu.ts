/**
 * Gelu (`com.microsoft`, exact erf form, or ONNX opset-20 `Gelu` with `approximate='none'`):
 * `gelu(x) = x * Phi(x)`, so `dx = dy * (Phi(x) + x * phi(x))` with
 * `Phi(x) = (1 + erf(x/sqrt2)) / 2` and `phi(x) = exp(-x^2/2) / sqrt(2 pi)`; written as
 * `dx = dy * 0.5 * (1 + erf(u) + (2/sqrt(pi)) * u * exp(-u^2))`, `u = x / sqrt2`.
 */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';
import { attr } from '../context.js';
import { UnsupportedGradientError } from '../errors.js';

export const geluGrad: GradientRule = {
  opTypes: ['Gelu', 'com.microsoft.Gelu'],
  backward(args) {
    const { node, ctx } = args;
    const mode = attr(node, 'approximate')?.s ?? 'none';
    if (mode !== 'none')
      throw new UnsupportedGradientError(
        `buildGradientGraph(): Gelu node '${node.name}' has approximate='${mode}'; only 'none' (erf) is differentiated`,
      );
    const dy = dy0(args);
    const x = node.input[0] as string;
    const u = ctx.mul(x, ctx.scalar(Math.SQRT1_2));
    const gauss = ctx.op('Exp', [ctx.neg(ctx.mul(u, u))], ctx.shape(x));
    const slope = ctx.mul(ctx.mul(u, gauss), ctx.scalar(2 / Math.sqrt(Math.PI)));
    const erf = ctx.op('Erf', [u], ctx.shape(x));
    const d = ctx.add(ctx.add(erf, slope), ctx.scalar(1));
    return [ctx.mul(ctx.mul(dy, d), ctx.scalar(0.5))];
  },
};
