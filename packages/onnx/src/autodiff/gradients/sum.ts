/** Sum (variadic, broadcasting): each input gets `sumTo(dy, its shape)`. */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const sumGrad: GradientRule = {
  opTypes: ['Sum'],
  backward(args) {
    const { node, ctx, needs } = args;
    const dy = dy0(args);
    return node.input.map((x, i) => (needs[i] ? ctx.sumTo(dy, ctx.shape(x)) : undefined));
  },
};
