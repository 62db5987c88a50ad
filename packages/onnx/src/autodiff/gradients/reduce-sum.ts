/**
 * ReduceSum (opset 13+: axes as an optional constant input; `keepdims`, `noop_with_empty_axes`):
 * `dx = Expand(Reshape(dy, kept shape), shape(x))`.
 */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';
import { attrInt } from '../context.js';
import type { GradContext } from '../context.js';

/** `dy` of a reduction over `axes` of `x` (empty = all axes) broadcast back to `x`'s shape. */
export function unreduce(ctx: GradContext, dy: string, xShape: readonly number[], axes: readonly number[]): string {
  const rank = xShape.length;
  const ax = axes.length === 0 ? [...Array(rank).keys()] : axes.map((a) => (a < 0 ? a + rank : a));
  const kept = xShape.map((d, i) => (ax.includes(i) ? 1 : d));
  return ctx.op('Expand', [ctx.reshape(dy, kept), ctx.int64([...xShape])], [...xShape]);
}

export const reduceSumGrad: GradientRule = {
  opTypes: ['ReduceSum'],
  backward(args) {
    const { node, ctx } = args;
    const x = node.input[0] as string;
    const axes = node.input[1] ? ctx.constInts(node.input[1], 'ReduceSum axes') : [];
    if (axes.length === 0 && attrInt(node, 'noop_with_empty_axes', 0) === 1) return [dy0(args), undefined];
    return [unreduce(ctx, dy0(args), ctx.shape(x), axes), undefined];
  },
};
