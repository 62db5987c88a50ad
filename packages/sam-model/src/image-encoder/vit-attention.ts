/**
 * segment-anything's ViT `Attention` (`modeling/image_encoder.py`): multi-head self-attention over a
 * `(H,W)` token map with decomposed relative positions (`add_decomposed_rel_pos`), whose `get_rel_pos`
 * tables were gathered at build time by `prepareImageEncoderWeights`.
 */
import type { ParamScope } from '../layers.js';
import { linear } from '../layers.js';
import { relPosTableKey } from './prepare.js';

/** Options of one ViT attention. */
export interface VitAttentionOptions {
  readonly numHeads: number;
  readonly useRelPos: boolean;
}

/**
 * `x [B,H,W,C]` -> `[B,H,W,C]`. With rel-pos, reads `<p>rel_pos_h.table [H,H,hd]` and
 * `<p>rel_pos_w.table [W,W,hd]`.
 */
export function vitAttention<T>(p: ParamScope<T>, x: T, opts: VitAttentionOptions): T {
  const { ops } = p;
  const [b, h, w, c] = ops.shape(x) as [number, number, number, number];
  const heads = opts.numHeads;
  const hd = c / heads;
  const n = h * w;
  // qkv [B, HW, 3, heads, hd]: the official reshape(B, H*W, 3, nHead, -1).
  const qkv = ops.reshape(linear(p.child('qkv'), x), [b, n, 3, heads, hd]);
  const part = (i: number): T =>
    ops.transpose(ops.reshape(ops.slice(qkv, 2, i, i + 1), [b, n, heads, hd]), [0, 2, 1, 3]);
  const q = part(0); // [B, heads, N, hd]
  const k = part(1);
  const v = part(2);

  let attn = ops.matmul(ops.scale(q, hd ** -0.5), k, true); // [B, heads, N, N]
  if (opts.useRelPos) attn = addDecomposedRelPos(p, attn, q, [b, heads, h, w, hd]);
  attn = ops.softmax(attn);
  const out = ops.reshape(ops.transpose(ops.matmul(attn, v), [0, 2, 1, 3]), [b, h, w, c]);
  return linear(p.child('proj'), out);
}

/**
 * `attn [B,heads,HW,HW] + rel_h[..., :, None] + rel_w[..., None, :]` with
 * `rel_h = einsum('bhwc,hkc->bhwk', q, Rh)` and `rel_w = einsum('bhwc,wkc->bhwk', q, Rw)` (unscaled q).
 */
function addDecomposedRelPos<T>(
  p: ParamScope<T>,
  attn: T,
  q: T,
  dims: readonly [number, number, number, number, number],
): T {
  const { ops } = p;
  const [b, heads, h, w, hd] = dims;
  const rh = ops.param(relPosTableKey(p.prefix, 'h')); // [H, H, hd]
  const rw = ops.param(relPosTableKey(p.prefix, 'w')); // [W, W, hd]
  const rq = ops.reshape(q, [b, heads, h, w, hd]);
  // [B,heads,h,w,hd] x [h,k,hd]^T, batch dims broadcast over h -> [B,heads,h,w,kh]
  const relH = ops.matmul(rq, rh, true);
  // [B,heads,w,h,hd] x [w,k,hd]^T -> [B,heads,w,h,kw] -> [B,heads,h,w,kw]
  const relW = ops.transpose(ops.matmul(ops.transpose(rq, [0, 1, 3, 2, 4]), rw, true), [0, 1, 3, 2, 4]);
  const a = ops.reshape(attn, [b, heads, h, w, h, w]);
  const sum = ops.add(ops.add(a, ops.reshape(relH, [b, heads, h, w, h, 1])), ops.reshape(relW, [b, heads, h, w, 1, w]));
  return ops.reshape(sum, [b, heads, h * w, h * w]);
}
