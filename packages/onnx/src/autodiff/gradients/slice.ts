/**
 * Slice with constant starts/ends/axes and steps 1: `dx = Pad(dy)` with zeros before and after the
 * slice on each axis. Other steps throw `UnsupportedGradientError`.
 */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';
import { UnsupportedGradientError } from '../errors.js';

export const sliceGrad: GradientRule = {
  opTypes: ['Slice'],
  backward(args) {
    const { node, ctx } = args;
    const [x, startsIn, endsIn, axesIn, stepsIn] = node.input as [string, string, string, string?, string?];
    const shape = ctx.shape(x);
    const rank = shape.length;
    const starts = ctx.constInts(startsIn, 'Slice starts');
    const ends = ctx.constInts(endsIn, 'Slice ends');
    const axes = axesIn ? ctx.constInts(axesIn, 'Slice axes') : starts.map((_, i) => i);
    const steps = stepsIn ? ctx.constInts(stepsIn, 'Slice steps') : starts.map(() => 1);
    if (steps.some((s) => s !== 1))
      throw new UnsupportedGradientError(
        `Slice gradient (node '${node.name ?? ''}'): needs steps 1, got [${steps.join(',')}]`,
      );
    const pads = new Array<number>(2 * rank).fill(0);
    axes.forEach((a0, i) => {
      const a = a0 < 0 ? a0 + rank : a0;
      const dim = shape[a] as number;
      const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
      const s = clamp(starts[i] as number);
      const e = Math.max(s, clamp(ends[i] as number));
      pads[a] = s;
      pads[a + rank] = dim - e;
    });
    if (pads.every((p) => p === 0)) return [dy0(args)];
    return [ctx.op('Pad', [dy0(args), ctx.int64(pads)], shape, { mode: 'constant' })];
  },
};
