/**
 * LayerNormalization (opset 17; normalises over axes `axis..rank-1`), a direct rule:
 * `x̂` and `1/σ` are recomputed by one fused LayerNormalization (scale 1, its optional
 * InvStdDev output), then with `g = dy * scale` and `P = dy * x̂`:
 * `dx = (g - mean(g) - x̂ * mean(g * x̂)) / σ`, `dscale = sumTo(P)`, `dbias = sumTo(dy)`.
 * Over the last axis alone (the decoder's LayerNorms), the two means are products with
 * `scale / C` (`mean(g) = dy · scale/C`, `mean(g * x̂) = P · scale/C`): reductions that read `dy`
 * and `P` without writing `g * x̂`, one full-size pass fewer.
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
    const p = needs[0] || needs[1] ? ctx.mul(dy, xhat) : undefined;
    let dx: string | undefined;
    if (needs[0]) {
      const g = ctx.mul(dy, scale);
      let mean: string;
      let meanX: string;
      if (axis === rank - 1 && ctx.shape(scale).length === 1) {
        const c = shape[axis] as number;
        const col = ctx.reshape(ctx.mul(scale, ctx.scalar(1 / c)), [c, 1]);
        mean = ctx.op('MatMul', [dy, col], statShape);
        meanX = ctx.op('MatMul', [p as string, col], statShape);
      } else {
        mean = ctx.meanKeep(g, axes);
        meanX = ctx.meanKeep(ctx.mul(g, xhat), axes);
      }
      dx = ctx.mul(ctx.sub(ctx.sub(g, mean), ctx.mul(xhat, meanX)), invStd);
    }
    return [
      dx,
      needs[1] ? ctx.sumTo(p as string, ctx.shape(scale)) : undefined,
      bias && needs[2] ? ctx.sumTo(dy, ctx.shape(bias)) : undefined,
    ];
  },
};
