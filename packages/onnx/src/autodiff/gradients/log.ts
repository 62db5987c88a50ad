/** Log: `dx = dy / x`. */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const logGrad: GradientRule = {
  opTypes: ['Log'],
  backward(args) {
    const { node, ctx } = args;
    const dy = dy0(args);
    const x = node.input[0] as string;
    return [ctx.div(dy, x)];
  },
};
