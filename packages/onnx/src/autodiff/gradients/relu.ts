/** Relu: `dx = dy where x > 0, else 0` (0 at x = 0, as tfjs and torch). */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const reluGrad: GradientRule = {
  opTypes: ['Relu'],
  backward(args) {
    const { node, ctx } = args;
    const dy = dy0(args);
    const x = node.input[0] as string;
    const pos = ctx.op('Greater', [x, ctx.scalar(0)], ctx.shape(x));
    return [ctx.op('Where', [pos, dy, ctx.scalar(0)], ctx.shape(x))];
  },
};
