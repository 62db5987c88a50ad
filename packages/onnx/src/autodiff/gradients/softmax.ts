/** Softmax (opset 13+: one axis, default -1): `dx = y * (dy - sum(dy * y, axis))` (reuses y). */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';
import { attrInt } from '../context.js';

export const softmaxGrad: GradientRule = {
  opTypes: ['Softmax'],
  backward(args) {
    const { node, ctx } = args;
    const dy = dy0(args);
    const y = node.output[0] as string;
    const axis = attrInt(node, 'axis', -1);
    const s = ctx.reduceSum(ctx.mul(dy, y), [axis], true);
    return [ctx.mul(y, ctx.sub(dy, s))];
  },
};
