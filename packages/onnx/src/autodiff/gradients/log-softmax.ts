/** LogSoftmax (opset 13+: one axis): `dx = dy - exp(y) * sum(dy, axis)` (reuses y). */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';
import { attrInt } from '../context.js';

export const logSoftmaxGrad: GradientRule = {
  opTypes: ['LogSoftmax'],
  backward(args) {
    const { node, ctx } = args;
    const dy = dy0(args);
    const y = node.output[0] as string;
    const axis = attrInt(node, 'axis', -1);
    const p = ctx.op('Exp', [y], ctx.shape(y));
    return [ctx.sub(dy, ctx.mul(p, ctx.reduceSum(dy, [axis], true)))];
  },
};
