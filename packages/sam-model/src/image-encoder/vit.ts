/**
 * segment-anything's `ImageEncoderViT` (ViT-B/L/H and any other size): patch embedding (conv 16/16),
 * absolute position embedding, transformer blocks with windowed (padded) or global attention and
 * decomposed relative positions, then the neck. Checkpoint keys under `image_encoder.`.
 */
import type { VitConfig } from '../config.js';
import type { ParamScope } from '../layers.js';
import { conv2d, layerNorm, mlpBlock } from '../layers.js';
import { neck } from './neck.js';
import { vitAttentionSize } from './prepare.js';
import { vitAttention } from './vit-attention.js';
import { windowPartition, windowUnpartition } from './window.js';

/** LayerNorm eps of the ViT blocks (`partial(nn.LayerNorm, eps=1e-6)` in `build_sam`). */
export const VIT_NORM_EPS = 1e-6;

/** One `Block`: `x + attn(norm1(x))` (windowed unless global), then `x + mlp(norm2(x))`; `x [B,H,W,C]`. */
export function vitBlock<T>(p: ParamScope<T>, config: VitConfig, index: number, x: T): T {
  const { ops } = p;
  const grid = config.imgSize / config.patchSize;
  const size = vitAttentionSize(config, index);
  const attnOpts = { numHeads: config.numHeads, useRelPos: config.useRelPos };
  let h = layerNorm(p.child('norm1'), x, VIT_NORM_EPS);
  if (size !== grid) {
    const { windows, grid: g } = windowPartition(ops, h, size);
    h = windowUnpartition(ops, vitAttention(p.child('attn'), windows, attnOpts), g);
  } else {
    h = vitAttention(p.child('attn'), h, attnOpts);
  }
  const y = ops.add(x, h);
  return ops.add(y, mlpBlock(p.child('mlp'), layerNorm(p.child('norm2'), y, VIT_NORM_EPS), 'gelu'));
}

/** `images [B,3,S,S]` (normalised, padded) -> `[B,outChans,S/16,S/16]`; `p` is the `image_encoder.` scope. */
export function vitEncoder<T>(p: ParamScope<T>, config: VitConfig, images: T): T {
  const { ops } = p;
  const patches = conv2d(p.child('patch_embed').child('proj'), images, { stride: config.patchSize });
  let x = ops.transpose(patches, [0, 2, 3, 1]); // [B,H,W,C]
  if (p.has('pos_embed')) x = ops.add(x, p.get('pos_embed'));
  for (let i = 0; i < config.depth; i++) x = vitBlock(p.child('blocks').child(i), config, i, x);
  return neck(p, ops.transpose(x, [0, 3, 1, 2]));
}
