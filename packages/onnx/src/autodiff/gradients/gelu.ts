/**
 * Gelu (`com.microsoft`, exact erf form, or ONNX opset-20 `Gelu` with `approximate='none'`):
 * `gelu(x) = x * Phi(x)`, so `dx = dy * (Phi(x) + x * phi(x))` with
 * `Phi(x) = (1 + erf(x/sqrt2)) / 2` and `phi(x) = exp(-x^2/2) / sqrt(2 pi)`; written as
 * `dx = dy * 0.5 * (1 + erf(u) + (2/sqrt(pi)) * u * exp(-u^2))`, `u = x / sqrt2`: 9 element-wise ops
 * (it runs on the mask head's `[B,65536,32]` and `[B,16384,64]` activations, so each pass counts).
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
    const shape = ctx.shape(x);
    const u = ctx.mul(x, ctx.scalar(Math.SQRT1_2));
    // u * exp(-u^2) as u / exp(u^2), one pass fewer than exp(neg(u*u)); for |x| > ~13 exp(u^2) is
    // inf and the quotient 0, the limit
    const slope = ctx.div(u, ctx.op('Exp', [ctx.mul(u, u)], shape));
    const erf = ctx.op('Erf', [u], shape);
    // 0.5 * (1 + erf + (2/sqrt(pi)) * slope) as one three-input Sum (a scalar broadcasts)
    const d = ctx.op(
      'Sum',
      [ctx.mul(erf, ctx.scalar(0.5)), ctx.mul(slope, ctx.scalar(1 / Math.sqrt(Math.PI))), ctx.scalar(0.5)],
      shape,
    );
    return [ctx.mul(dy, d)];
  },
};
