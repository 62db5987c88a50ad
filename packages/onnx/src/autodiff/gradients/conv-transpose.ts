/**
 * ConvTranspose, 2-D, with stride == kernel, no padding, dilation 1, group 1 (SAM's output
 * upscaling): output pixels never overlap, so
 * `dx = Conv(dy, W, kernel = stride = k)` (the weight's `[Cin,Cout,k,k]` layout is Conv's `[M,C,k,k]`),
 * `dW = x as [Cin, B*H*W] @ dy as [B*H*W, Cout*k*k]` (the matmul rewrite), `dbias = ReduceSum(dy, [0,2,3])`.
 * Other configurations throw `UnsupportedGradientError`.
 */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';
import { attr, attrInt, attrInts } from '../context.js';
import { UnsupportedGradientError } from '../errors.js';

export const convTransposeGrad: GradientRule = {
  opTypes: ['ConvTranspose'],
  backward(args) {
    const { node, ctx, needs } = args;
    const dy = dy0(args);
    const [x, w, bias] = node.input as [string, string, string?];
    const xs = ctx.shape(x);
    const ws = ctx.shape(w);
    const [b, cin, h, wd] = xs as [number, number, number, number];
    const [, cout, kh, kw] = ws as [number, number, number, number];
    const strides = attrInts(node, 'strides') ?? [1, 1];
    const pads = attrInts(node, 'pads') ?? [0, 0, 0, 0];
    const dil = attrInts(node, 'dilations') ?? [1, 1];
    const outPad = attrInts(node, 'output_padding') ?? [0, 0];
    const autoPad = attr(node, 'auto_pad')?.s ?? 'NOTSET';
    const ok =
      xs.length === 4 &&
      strides[0] === kh &&
      strides[1] === kw &&
      pads.every((p) => p === 0) &&
      dil.every((d) => d === 1) &&
      outPad.every((p) => p === 0) &&
      attrInt(node, 'group', 1) === 1 &&
      (autoPad === 'NOTSET' || autoPad === 'VALID');
    if (!ok)
      throw new UnsupportedGradientError(
        `ConvTranspose gradient (node '${node.name ?? ''}'): needs 2-D, strides == kernel [${kh},${kw}], no pads, dilation 1, group 1; got strides [${strides.join(',')}], pads [${pads.join(',')}], dilations [${dil.join(',')}], group ${attrInt(node, 'group', 1)}`,
      );
    const dx = needs[0]
      ? ctx.op('Conv', [dy, w], xs, {
          kernel_shape: [kh, kw],
          strides: [kh, kw],
          pads: [0, 0, 0, 0],
          dilations: [1, 1],
          group: 1,
        })
      : undefined;
    let dw: string | undefined;
    if (needs[1]) {
      // The matmul rewrite: x as [Cin, B*H*W] times dy as [B*H*W, Cout*k*k]. (A Conv of dyᵀ with xᵀ
      // as a dilated kernel computes the same with no 6-D transpose, but is ~4x slower on ORT's CPU EP.)
      const rows = b * h * wd;
      const xt = ctx.reshape(ctx.transpose(x, [1, 0, 2, 3]), [cin, rows]);
      const d6 = ctx.reshape(dy, [b, cout, h, kh, wd, kw]);
      const dyt = ctx.reshape(ctx.transpose(d6, [0, 2, 4, 1, 3, 5]), [rows, cout * kh * kw]);
      dw = ctx.reshape(ctx.op('MatMul', [xt, dyt], [cin, cout * kh * kw]), ws);
    }
    const db = bias && needs[2] ? ctx.reduceSum(dy, [0, 2, 3], false) : undefined;
    return [dx, dw, db];
  },
};
