/**
 * Hiera's `MultiScaleBlock` and `MultiScaleAttention` (`sam2/modeling/backbones/hieradet.py`), on
 * NHWC maps `[B,H,W,C]`:
 * - `x_n = norm1(x)`; at a stage start the shortcut is `maxpool(proj(x_n))` (pool only when the
 *   block pools its queries);
 * - windowed attention (zero-padded windows; window 0 = global) whose queries are 2x2 max-pooled at a
 *   pooling block, so the window side halves on the way out;
 * - `x = shortcut + attn`, then `x + mlp(norm2(x))` (Linear, exact GELU, Linear); LayerNorm eps 1e-6.
 */
import type { Ops } from '@samtune/tensor';
import type { ParamScope } from '../layers.js';
import { layerNorm, linear } from '../layers.js';
import { windowPad, windowPartition, windowUnpartition, type WindowGrid } from '../image-encoder/window.js';
import type { HieraBlockLayout } from './hiera-layout.js';

/** LayerNorm eps of the Hiera blocks (`partial(nn.LayerNorm, eps=1e-6)`). */
export const HIERA_NORM_EPS = 1e-6;

/**
 * torch `nn.MaxPool2d(2, 2)` (floor mode) on NHWC `x [B,H,W,C]` -> `[B,H/2,W/2,C]`, from the four
 * strided samples with `max(a,b) = a + relu(b - a)` (exact, or off by one rounding of `b - a`).
 */
export function maxPool2x2<T>(ops: Ops<T>, x: T): T {
  const [b, h, w, c] = ops.shape(x) as [number, number, number, number];
  const h2 = Math.floor(h / 2);
  const w2 = Math.floor(w / 2);
  let y = x;
  if (h % 2 !== 0) y = ops.slice(y, 1, 0, 2 * h2);
  if (w % 2 !== 0) y = ops.slice(y, 2, 0, 2 * w2);
  const r = ops.reshape(y, [b, h2, 2, w2, 2, c]);
  const pick = (i: number, j: number): T =>
    ops.reshape(ops.slice(ops.slice(r, 2, i, i + 1), 4, j, j + 1), [b, h2, w2, c]);
  const max = (a: T, bb: T): T => ops.add(a, ops.relu(ops.sub(bb, a)));
  return max(max(pick(0, 0), pick(0, 1)), max(pick(1, 0), pick(1, 1)));
}

/**
 * `MultiScaleAttention`: `x [B,H,W,dim]` -> `[B,H',W',dimOut]` (H' = H/2 when pooling queries).
 * `qkv` is `Linear(dim, 3*dimOut)`, heads split as `reshape(B, H*W, 3, heads, -1)`, scaled dot product
 * attention (scale `hd^-0.5`), then `proj`.
 */
export function hieraAttention<T>(p: ParamScope<T>, x: T, layout: HieraBlockLayout): T {
  const { ops } = p;
  const [b, h, w] = ops.shape(x) as [number, number, number, number];
  const heads = layout.numHeads;
  const hd = layout.dimOut / heads;
  const n = h * w;
  const qkv = ops.reshape(linear(p.child('qkv'), x), [b, n, 3, heads, hd]);
  const part = (i: number): T => ops.reshape(ops.slice(qkv, 2, i, i + 1), [b, n, heads, hd]);
  let q = part(0);
  let [ho, wo] = [h, w];
  if (layout.qPool) {
    const pooled = maxPool2x2(ops, ops.reshape(q, [b, h, w, layout.dimOut]));
    [, ho, wo] = ops.shape(pooled) as [number, number, number, number];
    q = ops.reshape(pooled, [b, ho * wo, heads, hd]);
  }
  const heads1st = (t: T): T => ops.transpose(t, [0, 2, 1, 3]); // [B, heads, N, hd]
  const attn = ops.softmax(ops.matmul(ops.scale(heads1st(q), hd ** -0.5), heads1st(part(1)), true));
  const out = ops.transpose(ops.matmul(attn, heads1st(part(2))), [0, 2, 1, 3]); // [B, N', heads, hd]
  return linear(p.child('proj'), ops.reshape(out, [b, ho, wo, layout.dimOut]));
}

/** The window grid to undo after query pooling: half the window over the pooled map. */
function pooledGrid(grid: WindowGrid, height: number, width: number, channels: number): WindowGrid {
  const window = grid.window / 2;
  return {
    batch: grid.batch,
    height,
    width,
    paddedHeight: height + windowPad(height, window),
    paddedWidth: width + windowPad(width, window),
    window,
    channels,
  };
}

/** One `MultiScaleBlock`: `x [B,H,W,dim]` -> `[B,H',W',dimOut]`. */
export function hieraBlock<T>(p: ParamScope<T>, layout: HieraBlockLayout, x: T): T {
  const { ops } = p;
  const xn = layerNorm(p.child('norm1'), x, HIERA_NORM_EPS);
  let shortcut = x;
  if (layout.dim !== layout.dimOut) {
    shortcut = linear(p.child('proj'), xn);
    if (layout.qPool) shortcut = maxPool2x2(ops, shortcut);
  }
  let h: T;
  if (layout.window > 0) {
    const { windows, grid } = windowPartition(ops, xn, layout.window);
    const attn = hieraAttention(p.child('attn'), windows, layout);
    const [, hs, ws] = ops.shape(shortcut) as [number, number, number, number];
    h = windowUnpartition(ops, attn, layout.qPool ? pooledGrid(grid, hs, ws, layout.dimOut) : grid);
  } else {
    h = hieraAttention(p.child('attn'), xn, layout);
  }
  const y = ops.add(shortcut, h);
  const m = p.child('mlp').child('layers');
  const hidden = ops.gelu(linear(m.child(0), layerNorm(p.child('norm2'), y, HIERA_NORM_EPS)));
  return ops.add(y, linear(m.child(1), hidden));
}
