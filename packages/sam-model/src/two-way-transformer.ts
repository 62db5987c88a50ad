/**
 * SAM's `TwoWayTransformer` (official `modeling/transformer.py`), written once against `Ops<T>`:
 * `depth` `TwoWayAttentionBlock`s (token self-attention, token->image cross-attention, ReLU MLP,
 * image->token cross-attention), then a final token->image attention and LayerNorm.
 *
 * Token count N may be dynamic (`-1`, ONNX); the batch must be static. Every reshape uses at most
 * one `-1` (the token axis).
 */
import type { MaskDecoderConfig } from './config.js';
import type { ParamScope } from './layers.js';
import { layerNorm, linear, mlp, mlpBlock } from './layers.js';
import { imageToTokenAttention, separateHeads, tokenToImageAttention } from './image-attention.js';
import type { Ops } from '@samtune/tensor';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when the transformer's inputs have the wrong rank, channels or a dynamic batch. */
export class TransformerShapeError extends SamtuneError {
  readonly code: string = 'transformer-shape';
  readonly kind: ErrorKind = 'input';
}

function batchOf<T>(ops: Ops<T>, x: T, fn: string, arg: string): number {
  const b = ops.shape(x)[0];
  if (b === undefined || b < 0) {
    throw new TransformerShapeError(`${fn}(${arg}): needs a static batch dim, got shape [${ops.shape(x).join(',')}]`);
  }
  return b;
}

/** `[B,heads,N,c]` -> `[B,N,heads*c]`. */
function recombineHeads<T>(ops: Ops<T>, x: T, b: number, inner: number): T {
  return ops.reshape(ops.transpose(x, [0, 2, 1, 3]), [b, -1, inner]);
}

/**
 * Already-projected attention inputs (`q_proj(q)`, `k_proj(k)`, `v_proj(v)`, each `[B|1,N,inner]`):
 * given ones replace the projection of that input (the raw input is then only read for its shape).
 */
export interface ProjectedInputs<T> {
  readonly q?: T;
  readonly k?: T;
  readonly v?: T;
}

/**
 * The transformer's `Attention`: q/k/v projections to `inner = dim / downsampleRate` channels,
 * `heads` heads, softmax(q k^T / sqrt(inner/heads)) v, output projection back to `dim`.
 * `q [B,Nq,C]`, `k`/`v` `[B|1,Nk,C]` -> `[B,Nq,C]`. `projected` skips the projections it holds.
 */
export function attention<T>(
  p: ParamScope<T>,
  q: T,
  k: T,
  v: T,
  heads: number,
  inner: number,
  projected: ProjectedInputs<T> = {},
): T {
  const { ops } = p;
  if (inner % heads !== 0) {
    throw new TransformerShapeError(
      `attention(heads): ${heads} heads must divide the inner dim ${inner} (${p.prefix})`,
    );
  }
  const qp = projected.q ?? linear(p.child('q_proj'), q);
  const kp = projected.k ?? linear(p.child('k_proj'), k);
  const vp = projected.v ?? linear(p.child('v_proj'), v);
  const bq = batchOf(ops, qp, 'attention', 'q');
  const bk = batchOf(ops, kp, 'attention', 'k');
  const qh = separateHeads(ops, qp, bq, heads, inner);
  const kh = separateHeads(ops, kp, bk, heads, inner);
  const vh = separateHeads(ops, vp, batchOf(ops, vp, 'attention', 'v'), heads, inner);
  const logits = ops.scale(ops.matmul(qh, kh, true), 1 / Math.sqrt(inner / heads));
  const out = recombineHeads(ops, ops.matmul(ops.softmax(logits), vh), Math.max(bq, bk), inner);
  return linear(p.child('out_proj'), out);
}

/** Queries (tokens) and keys (image tokens) after a block. */
export interface TwoWayState<T> {
  /** `[B, N_tokens, C]`. */
  readonly queries: T;
  /** `[B, H*W, C]`. */
  readonly keys: T;
}

/**
 * The image-side projections of one block that depend on the block's input `keys` only:
 * `cross_attn_token_to_image` k/v (of `keys + keyPe` and `keys`) and `cross_attn_image_to_token` q
 * (of `keys + keyPe`), each `[B,H*W,inner]`. For block 0 they depend on the image alone.
 */
export interface BlockImageProjections<T> {
  readonly tokenToImageK: T;
  readonly tokenToImageV: T;
  readonly imageToTokenQ: T;
}

/** `BlockImageProjections` of block `p` for its input `keys [B,H*W,C]`. */
export function blockImageProjections<T>(p: ParamScope<T>, keys: T, keyPe: T): BlockImageProjections<T> {
  const k = p.ops.add(keys, keyPe);
  return {
    tokenToImageK: linear(p.child('cross_attn_token_to_image').child('k_proj'), k),
    tokenToImageV: linear(p.child('cross_attn_token_to_image').child('v_proj'), keys),
    imageToTokenQ: linear(p.child('cross_attn_image_to_token').child('q_proj'), k),
  };
}

/**
 * How the transformer is recorded (same values either way).
 * - `reassociate`: the cross-attentions between tokens and image run in `image-attention.ts`'s
 *   re-associated form, which never projects the image side (fewer multiply-adds for SAM's few
 *   tokens; the ORT engines use it). Block 0's precomputed projections (`pre`) are still used.
 */
export interface TwoWayOptions {
  readonly reassociate?: boolean;
}

/**
 * One `TwoWayAttentionBlock` (`skipFirstLayerPe` for block 0). `pre`: this block's
 * `blockImageProjections` of `state.keys`, computed earlier (same values).
 */
export function twoWayAttentionBlock<T>(
  p: ParamScope<T>,
  cfg: MaskDecoderConfig,
  state: TwoWayState<T>,
  queryPe: T,
  keyPe: T,
  skipFirstLayerPe: boolean,
  pre?: BlockImageProjections<T>,
  options: TwoWayOptions = {},
): TwoWayState<T> {
  const { ops } = p;
  const fast = options.reassociate === true;
  const dim = cfg.transformerDim;
  const heads = cfg.transformerNumHeads;
  const crossInner = dim / cfg.attentionDownsampleRate;
  let { queries, keys } = state;

  if (skipFirstLayerPe) {
    queries = attention(p.child('self_attn'), queries, queries, queries, heads, dim);
  } else {
    const q = ops.add(queries, queryPe);
    queries = ops.add(queries, attention(p.child('self_attn'), q, q, queries, heads, dim));
  }
  queries = layerNorm(p.child('norm1'), queries);

  let q = ops.add(queries, queryPe);
  const k = pre ? keys : ops.add(keys, keyPe); // keys + keyPe, for both cross-attentions
  const t2i = pre ? { k: pre.tokenToImageK, v: pre.tokenToImageV } : {};
  const t2iScope = p.child('cross_attn_token_to_image');
  const t2iOut =
    fast && !pre
      ? tokenToImageAttention(t2iScope, q, k, keys, heads, crossInner)
      : attention(t2iScope, q, k, keys, heads, crossInner, t2i);
  queries = ops.add(queries, t2iOut);
  queries = layerNorm(p.child('norm2'), queries);

  // SAM 1 names the block's MLP `mlp.lin1/lin2` (`MLPBlock`), SAM 2 `mlp.layers.0/1` (`MLP`, 2 layers).
  const mlpScope = p.child('mlp');
  const mlpOut = mlpScope.has('lin1.weight') ? mlpBlock(mlpScope, queries, 'relu') : mlp(mlpScope, queries, 2);
  queries = ops.add(queries, mlpOut);
  queries = layerNorm(p.child('norm3'), queries);

  q = ops.add(queries, queryPe);
  const i2t = pre ? { q: pre.imageToTokenQ } : {};
  const i2tScope = p.child('cross_attn_image_to_token');
  const i2tOut = fast
    ? imageToTokenAttention(i2tScope, pre ? pre.imageToTokenQ : k, q, queries, heads, crossInner, pre !== undefined)
    : attention(i2tScope, k, q, queries, heads, crossInner, i2t);
  keys = ops.add(keys, i2tOut);
  keys = layerNorm(p.child('norm4'), keys);
  return { queries, keys };
}

/**
 * Official `TwoWayTransformer.forward`.
 * @param p scope of the transformer (`mask_decoder.transformer.`)
 * @param imageEmbedding `[B, C, H, W]`
 * @param imagePe `[1|B, C, H, W]` (broadcast over the batch)
 * @param pointEmbedding `[B, N, C]` tokens
 * @returns `queries [B,N,C]` (processed tokens) and `keys [B,H*W,C]` (processed image)
 */
export function twoWayTransformer<T>(
  p: ParamScope<T>,
  cfg: MaskDecoderConfig,
  imageEmbedding: T,
  imagePe: T,
  pointEmbedding: T,
): TwoWayState<T> {
  const { ops } = p;
  const s = ops.shape(imageEmbedding);
  const ps = ops.shape(imagePe);
  if (s.length !== 4 || s[1] !== cfg.transformerDim || ps.length !== 4) {
    throw new TransformerShapeError(
      `twoWayTransformer(imageEmbedding, imagePe): expected [B,${cfg.transformerDim},H,W] and [1,${cfg.transformerDim},H,W], got [${s.join(',')}] and [${ps.join(',')}]`,
    );
  }
  return twoWayTransformerOnImageSide(p, cfg, flattenImageSide(ops, cfg, imageEmbedding, imagePe), pointEmbedding);
}

/** `imageEmbedding [B,C,H,W]`, `imagePe [1|B,C,H,W]` -> `keys [B,H*W,C]`, `keyPe [1|B,H*W,C]`. */
export function flattenImageSide<T>(
  ops: Ops<T>,
  cfg: MaskDecoderConfig,
  imageEmbedding: T,
  imagePe: T,
): { keys: T; keyPe: T } {
  const s = ops.shape(imageEmbedding);
  const b = batchOf(ops, imageEmbedding, 'twoWayTransformer', 'imageEmbedding');
  const c = cfg.transformerDim;
  const hw = (s[2] as number) * (s[3] as number);
  const flatten = (x: T, batch: number): T => ops.transpose(ops.reshape(x, [batch, c, hw]), [0, 2, 1]);
  const keyPe = flatten(imagePe, batchOf(ops, imagePe, 'twoWayTransformer', 'imagePe'));
  return { keys: flatten(imageEmbedding, b), keyPe };
}

/**
 * The per-image part of `twoWayTransformer`, which does not depend on the prompt: the flattened
 * image `keys [B,H*W,C]`, `keyPe [1|B,H*W,C]` and, optionally, block 0's `BlockImageProjections`.
 * Computed once per image embedding, it serves every prompt on that image
 * (`twoWayTransformerOnImageSide`).
 */
export interface TransformerImageSide<T> {
  readonly keys: T;
  readonly keyPe: T;
  readonly block0?: BlockImageProjections<T>;
}

/** Block 0's `BlockImageProjections` of `side` (`p`: the transformer's scope). */
export function transformerImageProjections<T>(
  p: ParamScope<T>,
  side: Pick<TransformerImageSide<T>, 'keys' | 'keyPe'>,
): BlockImageProjections<T> {
  return blockImageProjections(p.child('layers').child(0), side.keys, side.keyPe);
}

/** `twoWayTransformer` from its per-image part (`TransformerImageSide`) and the tokens `[B,N,C]`. */
export function twoWayTransformerOnImageSide<T>(
  p: ParamScope<T>,
  cfg: MaskDecoderConfig,
  side: TransformerImageSide<T>,
  pointEmbedding: T,
  options: TwoWayOptions = {},
): TwoWayState<T> {
  const { ops } = p;
  const { keyPe } = side;
  const c = cfg.transformerDim;
  let state: TwoWayState<T> = { queries: pointEmbedding, keys: side.keys };
  for (let i = 0; i < cfg.transformerDepth; i++) {
    const pre = i === 0 ? side.block0 : undefined;
    state = twoWayAttentionBlock(p.child('layers').child(i), cfg, state, pointEmbedding, keyPe, i === 0, pre, options);
  }
  const q = ops.add(state.queries, pointEmbedding);
  const k = ops.add(state.keys, keyPe);
  const final = [p.child('final_attn_token_to_image'), q, k, state.keys, cfg.transformerNumHeads] as const;
  const inner = c / cfg.attentionDownsampleRate;
  const attn = options.reassociate ? tokenToImageAttention(...final, inner) : attention(...final, inner);
  const queries = layerNorm(p.child('norm_final_attn'), ops.add(state.queries, attn));
  return { queries, keys: state.keys };
}
