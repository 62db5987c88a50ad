/** Clip(x, min?, max?) (opset 11+: bounds as inputs): `dx = dy` where `min <= x <= max`, else 0; the bounds get none. */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const clipGrad: GradientRule = {
  opTypes: ['Clip'],
  backward(args) {
    const { node, ctx } = args;
    const dy = dy0(args);
    const [x, lo, hi] = node.input as [string, string?, string?];
    const shape = ctx.shape(x);
    let inside: string | undefined;
    const and = (m: string): string => (inside ? ctx.op('And', [inside, m], shape) : m);
    if (lo) inside = and(ctx.op('GreaterOrEqual', [x, lo], shape));
    if (hi) inside = and(ctx.op('LessOrEqual', [x, hi], shape));
    return [inside ? ctx.op('Where', [inside, dy, ctx.scalar(0)], shape) : dy, undefined, undefined];
  },
};
