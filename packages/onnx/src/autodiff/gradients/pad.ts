/** Pad (constant mode, constant non-negative pads): `dx = Slice(dy)` back to the unpadded window. */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';
import { UnsupportedGradientError } from '../errors.js';
import { attr } from '../context.js';

export const padGrad: GradientRule = {
  opTypes: ['Pad'],
  backward(args) {
    const { node, ctx } = args;
    const x = node.input[0] as string;
    const shape = ctx.shape(x);
    const rank = shape.length;
    const mode = attr(node, 'mode')?.s ?? 'constant';
    const pads = ctx.constInts(node.input[1] as string, 'Pad pads');
    const axes = node.input[3] ? ctx.constInts(node.input[3], 'Pad axes') : [...Array(rank).keys()];
    if (mode !== 'constant' || pads.some((p) => p < 0))
      throw new UnsupportedGradientError(
        `Pad gradient (node '${node.name ?? ''}'): needs mode 'constant' and pads >= 0, got '${mode}' [${pads.join(',')}]`,
      );
    const n = axes.length;
    const starts = axes.map((_, i) => pads[i] as number);
    const ends = axes.map((a, i) => (pads[i] as number) + (shape[a < 0 ? a + rank : a] as number));
    return [
      ctx.op('Slice', [dy0(args), ctx.int64(starts), ctx.int64(ends), ctx.int64(axes.slice(0, n))], shape),
      undefined,
      undefined,
      undefined,
    ];
  },
};
