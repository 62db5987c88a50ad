/**
 * LayerNormalization (opset 17; normalises over axes `axis..rank-1`), a direct rule:
 * `x̂` and `1/σ` are recomputed by one fused LayerNormalization (scale 1, its optional
 * InvStdDev output), then with `g = dy * scale`:
 * `dx = (g - mean(g) - x̂ * mean(g * x̂)) / σ`, `dscale = sumTo(dy * x̂)`, `dbias = sumTo(dy)`.
 */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';
import { attrFloat, attrInt } from '../context.js';

export const layerNormalizationGrad: GradientRule = {
  opTypes: ['LayerNormalization'],
  backward(args) {
    const { node, ctx, needs } = args;
    const dy = dy0(args);
    const [x, scale, bias] = node.input as [string, string, string?];
    const shape = ctx.shape(x);
    const rank = shape.length;
    const a = attrInt(node, 'axis', -1);
    const axis = a < 0 ? a + rank : a;
    const axes = [...Array(rank - axis).keys()].map((i) => i + axis);
    const epsilon = attrFloat(node, 'epsilon', 1e-5);
    const statShape = shape.map((d, i) => (i >= axis ? 1 : d));
    const [xhat, , invStd] = ctx.opN(
      'LayerNormalization',
      [x, ctx.onesOf(shape.slice(axis))],
      [shape, statShape, statShape],
      { axis, epsilon: { f: epsilon } },
    ) as [string, string, string];
    let dx: string | undefined;
    if (needs[0]) {
      const g = ctx.mul(dy, scale);
      const inner = ctx.sub(ctx.sub(g, ctx.meanKeep(g, axes)), ctx.mul(xhat, ctx.meanKeep(ctx.mul(g, xhat), axes)));
      dx = ctx.mul(inner, invStd);
    }
    return [
      dx,
      needs[1] ? ctx.sumTo(ctx.mul(dy, xhat), ctx.shape(scale)) : undefined,
      bias && needs[2] ? ctx.sumTo(dy, ctx.shape(bias)) : undefined,
    ];
  },
};
