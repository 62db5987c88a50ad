/** Expand (broadcast to a shape): `dx = sumTo(dy, shape(x))`. */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const expandGrad: GradientRule = {
  opTypes: ['Expand', 'Tile'],
  backward(args) {
    const { node, ctx } = args;
    const x = node.input[0] as string;
    if (node.opType === 'Tile') return [tileGrad(args.ctx, dy0(args), ctx.shape(x)), undefined];
    return [ctx.sumTo(dy0(args), ctx.shape(x)), undefined];
  },
};

/** Tile: reshape `dy [r0*d0, r1*d1, …]` to `[r0, d0, r1, d1, …]` and sum the repeat axes. */
function tileGrad(ctx: Parameters<GradientRule['backward']>[0]['ctx'], dy: string, xs: readonly number[]): string {
  const ys = ctx.shape(dy);
  const split = xs.flatMap((d, i) => [(ys[i] as number) / d, d]);
  const r = ctx.reshape(dy, split);
  return ctx.reshape(
    ctx.reduceSum(
      r,
      xs.map((_, i) => 2 * i),
      false,
    ),
    xs,
  );
}
