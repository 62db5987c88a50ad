/**
 * TinyViT's modules as MobileSAM defines them (`mobile_sam/modeling/tiny_vit_sam.py`), written once
 * against `Ops<T>`. `Conv2d_BN` modules read the BatchNorm-folded `fused.weight|bias` and attention
 * reads the gathered `ab` bias, both made by `prepareImageEncoderWeights`.
 * Layouts: convolution modules take and return NCHW `[B,C,H,W]`; attention blocks NHWC `[B,H,W,C]`
 * (the official `(B, L, C)` token sequence with `L = H*W`, row-major).
 */
import type { Conv2dOptions } from '@samtune/tensor';
import type { ParamScope } from '../layers.js';
import { layerNorm, linear } from '../layers.js';
import { attentionBiasKey, fusedConvKeys } from './prepare.js';
import { windowPartition, windowUnpartition } from './window.js';

/** LayerNorm eps inside TinyViT's attention and Mlp (torch default). */
export const TINY_VIT_NORM_EPS = 1e-5;

/** `Conv2d_BN` at `p` with its BatchNorm folded: `x [B,Cin,H,W]` -> `[B,Cout,H',W']`. */
export function conv2dBn<T>(p: ParamScope<T>, x: T, opts?: Conv2dOptions): T {
  const keys = fusedConvKeys(p.prefix);
  return p.ops.conv2d(x, p.ops.param(keys.weight), p.ops.param(keys.bias), opts);
}

/** `PatchEmbed`: `Conv2d_BN(3,C/2,3,2,1) -> GELU -> Conv2d_BN(C/2,C,3,2,1)`: `[B,3,S,S]` -> `[B,C,S/4,S/4]`. */
export function tinyVitPatchEmbed<T>(p: ParamScope<T>, x: T): T {
  const seq = p.child('seq');
  const h = p.ops.gelu(conv2dBn(seq.child(0), x, { stride: 2, pad: 1 }));
  return conv2dBn(seq.child(2), h, { stride: 2, pad: 1 });
}

/** `MBConv`: 1x1 expand, GELU, 3x3 depthwise, GELU, 1x1 project, + shortcut, GELU. NCHW in/out. */
export function mbConv<T>(p: ParamScope<T>, x: T): T {
  const { ops } = p;
  let h = ops.gelu(conv2dBn(p.child('conv1'), x));
  const hidden = ops.shape(h)[1] as number;
  h = ops.gelu(conv2dBn(p.child('conv2'), h, { pad: 1, groups: hidden }));
  h = conv2dBn(p.child('conv3'), h);
  return ops.gelu(ops.add(h, x));
}

/** MobileSAM keeps full resolution into the last stage: its depthwise conv has stride 1 for these out dims. */
export function patchMergingStride(outDim: number): number {
  return outDim === 320 || outDim === 448 || outDim === 576 ? 1 : 2;
}

/**
 * `PatchMerging`: `Conv2d_BN 1x1 -> GELU -> depthwise Conv2d_BN 3x3 (stride 2, or 1 for out dims
 * 320/448/576) -> GELU -> Conv2d_BN 1x1`. NCHW in/out.
 */
export function patchMerging<T>(p: ParamScope<T>, x: T, outDim: number): T {
  const { ops } = p;
  let h = ops.gelu(conv2dBn(p.child('conv1'), x));
  h = ops.gelu(conv2dBn(p.child('conv2'), h, { stride: patchMergingStride(outDim), pad: 1, groups: outDim }));
  return conv2dBn(p.child('conv3'), h);
}

/**
 * TinyViT `Attention` (attn_ratio 1, key_dim = C/heads) on windows `x [B',N,C]`: LayerNorm, qkv split
 * per head into `q,k (key_dim), v (d)`, `softmax(q k^T * key_dim^-0.5 + ab) v`, proj.
 */
export function tinyVitAttention<T>(p: ParamScope<T>, x: T, numHeads: number): T {
  const { ops } = p;
  const [b, n, c] = ops.shape(x) as [number, number, number];
  const keyDim = c / numHeads;
  const d = keyDim; // attn_ratio = 1 in TinyViTBlock
  const qkv = ops.reshape(linear(p.child('qkv'), layerNorm(p.child('norm'), x, TINY_VIT_NORM_EPS)), [
    b,
    n,
    numHeads,
    2 * keyDim + d,
  ]);
  const part = (start: number, end: number): T => ops.transpose(ops.slice(qkv, 3, start, end), [0, 2, 1, 3]); // [B',heads,N,*]
  const q = part(0, keyDim);
  const k = part(keyDim, 2 * keyDim);
  const v = part(2 * keyDim, 2 * keyDim + d);
  const logits = ops.add(ops.scale(ops.matmul(q, k, true), keyDim ** -0.5), ops.param(attentionBiasKey(p.prefix)));
  const out = ops.reshape(ops.transpose(ops.matmul(ops.softmax(logits), v), [0, 2, 1, 3]), [b, n, numHeads * d]);
  return linear(p.child('proj'), out);
}

/** Options of one `TinyViTBlock`. */
export interface TinyVitBlockOptions {
  readonly numHeads: number;
  readonly windowSize: number;
  readonly localConvSize: number;
}

/**
 * `TinyViTBlock` on `x [B,H,W,C]`: windowed attention (zero-padded to a multiple of the window, the
 * padding cropped after) with residual, depthwise `local_conv` Conv2d_BN, then `x + mlp(x)`.
 */
export function tinyVitBlock<T>(p: ParamScope<T>, x: T, opts: TinyVitBlockOptions): T {
  const { ops } = p;
  const c = ops.shape(x)[3] as number;
  const ws = opts.windowSize;
  const { windows, grid } = windowPartition(ops, x, ws);
  const nWin = ops.shape(windows)[0] as number;
  const attended = tinyVitAttention(p.child('attn'), ops.reshape(windows, [nWin, ws * ws, c]), opts.numHeads);
  let h = ops.add(x, windowUnpartition(ops, ops.reshape(attended, [nWin, ws, ws, c]), grid));
  const conv = conv2dBn(p.child('local_conv'), ops.transpose(h, [0, 3, 1, 2]), {
    pad: Math.floor(opts.localConvSize / 2),
    groups: c,
  });
  h = ops.transpose(conv, [0, 2, 3, 1]);
  return ops.add(h, tinyVitMlp(p.child('mlp'), h));
}

/** TinyViT `Mlp`: LayerNorm, fc1, GELU, fc2 (no residual). */
export function tinyVitMlp<T>(p: ParamScope<T>, x: T): T {
  const h = linear(p.child('fc1'), layerNorm(p.child('norm'), x, TINY_VIT_NORM_EPS));
  return linear(p.child('fc2'), p.ops.gelu(h));
}
