/** Reshape, Squeeze, Unsqueeze, Flatten (same data, another shape): `dx = Reshape(dy, shape(x))`. */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const reshapeGrad: GradientRule = {
  opTypes: ['Reshape', 'Squeeze', 'Unsqueeze', 'Flatten'],
  backward(args) {
    const { node, ctx } = args;
    const x = node.input[0] as string;
    return [ctx.reshape(dy0(args), ctx.shape(x))];
  },
};
