/** Concat: `Split(dy)` along the axis into the inputs' sizes (one node). */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';
import { attrInt } from '../context.js';

export const concatGrad: GradientRule = {
  opTypes: ['Concat'],
  backward(args) {
    const { node, ctx } = args;
    const dy = dy0(args);
    const shapes = node.input.map((x) => ctx.shape(x));
    if (shapes.length === 1) return [dy];
    const rank = (shapes[0] as number[]).length;
    const a = attrInt(node, 'axis', 0);
    const axis = a < 0 ? a + rank : a;
    const sizes = shapes.map((s) => s[axis] as number);
    return ctx.opN('Split', [dy, ctx.int64(sizes)], shapes, { axis });
  },
};
