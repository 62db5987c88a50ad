/** Add (numpy broadcasting): `da = sumTo(dy, a)`, `db = sumTo(dy, b)`. */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const addGrad: GradientRule = {
  opTypes: ['Add'],
  backward(args) {
    const { node, ctx, needs } = args;
    const dy = dy0(args);
    return node.input.map((x, i) => (needs[i] ? ctx.sumTo(dy, ctx.shape(x)) : undefined));
  },
};
