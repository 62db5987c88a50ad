/**
 * Conv, 2-D (explicit pads, any stride/dilation; `dx` for any group, `dW` for group 1):
 * `dx = ConvTranspose(dy, W)` with the forward strides/pads/dilations and the `output_padding` that
 * restores x's size; `dW` = a Conv of `xᵀ [C,B,H,W]` with `dyᵀ [O,B,Ho,Wo]` as its kernel (stride =
 * forward dilation, dilation = forward stride), cropped to the kernel and transposed to `[O,C,kh,kw]`;
 * `dbias = ReduceSum(dy, [0,2,3])`.
 */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';
import { attr, attrInt, attrInts } from '../context.js';
import { UnsupportedGradientError } from '../errors.js';

export const convGrad: GradientRule = {
  opTypes: ['Conv'],
  backward(args) {
    const { node, ctx, needs } = args;
    const dy = dy0(args);
    const [x, w, bias] = node.input as [string, string, string?];
    const xs = ctx.shape(x);
    const ws = ctx.shape(w);
    const ys = ctx.shape(node.output[0] as string);
    const group = attrInt(node, 'group', 1);
    const autoPad = attr(node, 'auto_pad')?.s ?? 'NOTSET';
    if (xs.length !== 4 || (autoPad !== 'NOTSET' && autoPad !== 'VALID') || (needs[1] && group !== 1))
      throw new UnsupportedGradientError(
        `Conv gradient (node '${node.name ?? ''}'): needs 2-D, explicit pads and (for the weight) group 1; got x [${xs.join(',')}], auto_pad '${autoPad}', group ${group}`,
      );
    const [, c, h, wd] = xs as [number, number, number, number];
    const [o, , kh, kw] = ws as [number, number, number, number];
    const s = attrInts(node, 'strides') ?? [1, 1];
    const d = attrInts(node, 'dilations') ?? [1, 1];
    const p = attrInts(node, 'pads') ?? [0, 0, 0, 0];
    const [sh, sw] = s as [number, number];
    const [dh, dw] = d as [number, number];
    const [ho, wo] = [ys[2] as number, ys[3] as number];
    let dx: string | undefined;
    if (needs[0]) {
      const base = (n: number, st: number, k: number, dl: number, pb: number, pe: number): number =>
        st * (n - 1) + (k - 1) * dl + 1 - pb - pe;
      const op = [
        h - base(ho, sh, kh, dh, p[0] as number, p[2] as number),
        wd - base(wo, sw, kw, dw, p[1] as number, p[3] as number),
      ];
      dx = ctx.op('ConvTranspose', [dy, w], xs, {
        kernel_shape: [kh, kw],
        strides: s,
        pads: p,
        dilations: d,
        group,
        output_padding: op,
      });
    }
    let dW: string | undefined;
    if (needs[1]) {
      const outH = Math.floor((h + (p[0] as number) + (p[2] as number) - ((ho - 1) * sh + 1)) / dh) + 1;
      const outW = Math.floor((wd + (p[1] as number) + (p[3] as number) - ((wo - 1) * sw + 1)) / dw) + 1;
      const conv = ctx.op(
        'Conv',
        [ctx.transpose(x, [1, 0, 2, 3]), ctx.transpose(dy, [1, 0, 2, 3])],
        [c, o, outH, outW],
        {
          kernel_shape: [ho, wo],
          strides: [dh, dw],
          dilations: [sh, sw],
          pads: p,
          group: 1,
        },
      );
      const cropped =
        outH === kh && outW === kw
          ? conv
          : ctx.op('Slice', [conv, ctx.int64([0, 0]), ctx.int64([kh, kw]), ctx.int64([2, 3])], [c, o, kh, kw]);
      dW = ctx.transpose(cropped, [1, 0, 2, 3]);
    }
    const db = bias && needs[2] ? ctx.reduceSum(dy, [0, 2, 3], false) : undefined;
    return [dx, dW, db];
  },
};
