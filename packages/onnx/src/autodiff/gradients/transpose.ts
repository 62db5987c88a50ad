/** Transpose: `dx = Transpose(dy, inverse(perm))` (default perm: reversed axes). */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';
import { attrInts } from '../context.js';

export const transposeGrad: GradientRule = {
  opTypes: ['Transpose'],
  backward(args) {
    const { node, ctx } = args;
    const rank = ctx.shape(node.input[0] as string).length;
    const perm = attrInts(node, 'perm') ?? [...Array(rank).keys()].reverse();
    const inverse = new Array<number>(rank);
    perm.forEach((p, i) => (inverse[p] = i));
    return [ctx.transpose(dy0(args), inverse)];
  },
};
