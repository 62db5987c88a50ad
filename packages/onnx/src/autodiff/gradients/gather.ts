/**
 * Gather with constant indices: `dy` viewed as `[pre, n, post]` (n = number of indices) is multiplied
 * by a build-time one-hot matrix `[dim, n]` -> `[pre, dim, post]`, so repeated indices sum. The
 * one-hot costs `dim * n` floats: fine for token/row selection, not for huge tables.
 */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';
import { numel } from '@samtune/tensor';
import { attrInt } from '../context.js';
import { UnsupportedGradientError } from '../errors.js';

export const gatherGrad: GradientRule = {
  opTypes: ['Gather'],
  backward(args) {
    const { node, ctx } = args;
    const [data, indicesIn] = node.input as [string, string];
    const shape = ctx.shape(data);
    const rank = shape.length;
    const a = attrInt(node, 'axis', 0);
    const axis = a < 0 ? a + rank : a;
    const dim = shape[axis] as number;
    const indices = ctx.constInts(indicesIn, 'Gather indices').map((i) => (i < 0 ? i + dim : i));
    if (indices.some((i) => i < 0 || i >= dim))
      throw new UnsupportedGradientError(
        `Gather gradient (node '${node.name ?? ''}'): indices must lie in [0, ${dim}), got [${indices.join(',')}]`,
      );
    const n = indices.length;
    const oneHot = new Float32Array(dim * n);
    indices.forEach((idx, j) => (oneHot[idx * n + j] = 1));
    const m = ctx.builder.addFloatConstant(oneHot, [dim, n], 'grad_gather_onehot');
    const pre = numel(shape.slice(0, axis));
    const post = numel(shape.slice(axis + 1));
    const flat = ctx.reshape(dy0(args), [pre, n, post]);
    const dx = ctx.op('MatMul', [m, flat], [pre, dim, post]);
    return [ctx.reshape(dx, shape), undefined];
  },
};
