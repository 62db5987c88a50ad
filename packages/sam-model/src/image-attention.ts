/**
 * The transformer's two cross-attentions between a few tokens and the image, re-associated so
 * that the `[B, H*W, C]` image side is never projected to q/k/v. Same values as `attention`
 * (products regrouped, float32 rounding aside); several times fewer multiply-adds when
 * `heads * tokens` is below the inner dim (SAM: 8 heads x 7 tokens = 56 against 128).
 *
 * Notation: image `X [B|1, HW, C]`, tokens `[B, T, C]`, `heads` heads of `d = inner/heads`
 * channels, torch `Linear` weights `[out, in]` (so head `h` of a projection is the rows
 * `h*d .. h*d+d-1`).
 *
 * - token->image (`tokenToImageAttention`): `q_h k_j = (q_h Wk_h) . X_j + q_h . bk_h`; the bias
 *   term is the same for every image token j, so softmax drops it (the key bias has no effect
 *   and no gradient, as in the official module). `sum_j a_j v_j = (sum_j a_j X_j) Wv_h^T + bv_h`
 *   because the weights of each softmax row sum to 1. Both image products are `[HT, C] x [C, HW]`.
 * - image->token (`imageToTokenAttention`): `q_j k_t = X_j (Wq_h^T k_t) + bq_h . k_t`, and the
 *   output projection folds into the values: `out_j = sum_h sum_t a_jt (v_t Wo_h^T) + bo`. Again
 *   two `[HW, C] x [C, HT]`-sized products. When block 0's `q` projection of the image is already
 *   computed once per image (`[1, HW, inner]`), the logits are `Q x K_blockdiag [inner, HT]`.
 */
import type { Ops } from '@samtune/tensor';
import type { ParamScope } from './layers.js';
import { linear } from './layers.js';

/** `[B,N,inner]` -> `[B,heads,N,inner/heads]`. */
export function separateHeads<T>(ops: Ops<T>, x: T, b: number, heads: number, inner: number): T {
  return ops.transpose(ops.reshape(x, [b, -1, heads, inner / heads]), [0, 2, 1, 3]);
}

/** A projection's weight `[inner, C]` as `[heads, d, C]`. */
function headWeights<T>(p: ParamScope<T>, heads: number): T {
  const { ops } = p;
  const w = p.get('weight');
  const [inner, c] = ops.shape(w) as [number, number];
  return ops.reshape(w, [heads, inner / heads, c]);
}

/**
 * Token->image attention (`cross_attn_token_to_image`, `final_attn_token_to_image`).
 * @param q `[B,T,C]` tokens (+ their positional encoding)
 * @param k `[B|1,HW,C]` image keys + key positional encoding
 * @param v `[B|1,HW,C]` image keys
 * @returns `[B,T,C]`
 */
export function tokenToImageAttention<T>(p: ParamScope<T>, q: T, k: T, v: T, heads: number, inner: number): T {
  const { ops } = p;
  const [b, , c] = ops.shape(q) as [number, number, number];
  const kb = ops.shape(k)[0] as number;
  const d = inner / heads;
  const qh = separateHeads(ops, linear(p.child('q_proj'), q), b, heads, inner); // [B,H,T,d]
  // q' = q_h Wk_h / sqrt(d): [B,H,T,C]; rows (b,h,t) against every image token
  const qk = ops.scale(ops.matmul(qh, headWeights(p.child('k_proj'), heads)), 1 / Math.sqrt(d));
  const rows = (x: T): T => (kb === 1 ? ops.reshape(x, [1, -1, c]) : ops.reshape(x, [b, -1, c])); // [1,BHT,C] | [B,HT,C]
  const attn = ops.softmax(ops.matmul(rows(qk), k, true)); // [.,.HT,HW]
  const ax = ops.reshape(ops.matmul(attn, v), [b, heads, -1, c]); // [B,H,T,C]: attention-weighted image
  const vh = ops.matmul(ax, headWeights(p.child('v_proj'), heads), true); // [B,H,T,d]
  const out = ops.add(ops.reshape(ops.transpose(vh, [0, 2, 1, 3]), [b, -1, inner]), p.child('v_proj').get('bias'));
  return linear(p.child('out_proj'), out);
}

/**
 * Image->token attention (`cross_attn_image_to_token`).
 * @param q `[B|1,HW,C]` image keys + key positional encoding, or with `projectedQ` its `q_proj`
 *   `[B|1,HW,inner]` (block 0, computed once per image)
 * @param k `[B,T,C]` tokens + positional encoding; `v` `[B,T,C]` tokens
 * @returns `[B,HW,C]`
 */
export function imageToTokenAttention<T>(
  p: ParamScope<T>,
  q: T,
  k: T,
  v: T,
  heads: number,
  inner: number,
  projectedQ = false,
): T {
  const { ops } = p;
  const b = ops.shape(k)[0] as number;
  const d = inner / heads;
  const s = 1 / Math.sqrt(d);
  const kt = ops.transpose(separateHeads(ops, linear(p.child('k_proj'), k), b, heads, inner), [0, 1, 3, 2]); // [B,H,d,T]
  let logits: T; // [B,HW,H*T]
  if (projectedQ) {
    // block-diagonal keys [B, inner, H*T]: row (h,e), column (h',t) = k[t, h, e] if h == h'
    const eye = new Float32Array(heads * heads);
    for (let h = 0; h < heads; h++) eye[h * heads + h] = s;
    const blocks = ops.mul(ops.reshape(kt, [b, heads, d, 1, -1]), ops.constant(eye, [heads, 1, heads, 1]));
    logits = ops.matmul(q, ops.reshape(blocks, [b, inner, -1]));
  } else {
    // M_h = Wq_h^T k_h^T / sqrt(d): [B,H,C,T] -> [B,C,H*T]; bias term bq_h . k_t: [B,1,H*T]
    const wq = headWeights(p.child('q_proj'), heads); // [H,d,C]
    const c = ops.shape(wq)[2] as number;
    const m = ops.scale(ops.matmul(ops.transpose(wq, [0, 2, 1]), kt), s);
    const mFlat = ops.reshape(ops.transpose(m, [0, 2, 1, 3]), [b, c, -1]);
    const bq = ops.reshape(p.child('q_proj').get('bias'), [heads, 1, d]);
    const bias = ops.reshape(ops.scale(ops.matmul(bq, kt), s), [b, 1, -1]); // [B,H,1,T] -> [B,1,HT]
    logits = ops.add(ops.matmul(q, mFlat), bias);
  }
  const hw = ops.shape(q)[1] as number;
  const attn = ops.reshape(ops.softmax(ops.reshape(logits, [b, hw, heads, -1])), [b, hw, -1]); // softmax per head
  // U_h = v_h Wo_h^T: [B,H,T,C] -> [B,H*T,C]
  const vh = separateHeads(ops, linear(p.child('v_proj'), v), b, heads, inner); // [B,H,T,d]
  const wo = p.child('out_proj').get('weight'); // [C, inner]
  const c = ops.shape(wo)[0] as number;
  const woT = ops.transpose(ops.reshape(wo, [c, heads, d]), [1, 2, 0]); // [H,d,C]
  const u = ops.reshape(ops.matmul(vh, woT), [b, -1, c]);
  return ops.add(ops.matmul(attn, u), p.child('out_proj').get('bias'));
}
