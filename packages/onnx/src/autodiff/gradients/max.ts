/**
 * Max / Min of two inputs (numpy broadcasting): the gradient goes to the selected input (to the
 * first on ties), summed back over broadcast axes. More than two inputs: unsupported.
 */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';
import { UnsupportedGradientError } from '../errors.js';

export const maxMinGrad: GradientRule = {
  opTypes: ['Max', 'Min'],
  backward(args) {
    const { node, ctx, needs } = args;
    const dy = dy0(args);
    if (node.input.length === 1) return [dy];
    if (node.input.length !== 2)
      throw new UnsupportedGradientError(
        `${node.opType} gradient (node '${node.name ?? ''}'): needs 1 or 2 inputs, got ${node.input.length}`,
      );
    const [a, b] = node.input as [string, string];
    const shape = ctx.shape(dy);
    const pick = ctx.op(node.opType === 'Max' ? 'GreaterOrEqual' : 'LessOrEqual', [a, b], shape);
    const zero = ctx.scalar(0);
    return [
      needs[0] ? ctx.sumTo(ctx.op('Where', [pick, dy, zero], shape), ctx.shape(a)) : undefined,
      needs[1] ? ctx.sumTo(ctx.op('Where', [pick, zero, dy], shape), ctx.shape(b)) : undefined,
    ];
  },
};
