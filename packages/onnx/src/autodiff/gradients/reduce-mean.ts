/** ReduceMean (axes: attribute up to opset 17, input from 18): `dx = Expand(Reshape(dy)) / count`. */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';
import { numel } from '@samtune/tensor';
import { attrInts } from '../context.js';
import { unreduce } from './reduce-sum.js';

export const reduceMeanGrad: GradientRule = {
  opTypes: ['ReduceMean'],
  backward(args) {
    const { node, ctx } = args;
    const x = node.input[0] as string;
    const shape = ctx.shape(x);
    const axes = attrInts(node, 'axes') ?? (node.input[1] ? ctx.constInts(node.input[1], 'ReduceMean axes') : []);
    const rank = shape.length;
    const count =
      axes.length === 0 ? numel(shape) : axes.reduce((a, ax) => a * (shape[ax < 0 ? ax + rank : ax] as number), 1);
    const scaled = ctx.mul(dy0(args), ctx.scalar(1 / count));
    return [unreduce(ctx, scaled, shape, axes), undefined];
  },
};
