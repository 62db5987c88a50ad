/**
 * The decoder's mask head (`output_upscaling` + the hypernetwork dot product) in channels-last
 * layout, for the in-process ORT engine: the same values as `upscaleMasks`, with each
 * `ConvTranspose2d(k=2, s=2)` as one matmul over the pixels and no transpose of a feature map.
 *
 * A kernel-2 stride-2 transposed conv maps every input pixel to its own 2x2 output block:
 * `out[co, 2i+a, 2j+b] = bias[co] + sum_ci x[ci,i,j] * W[ci,co,a,b]`. With the weight reordered to
 * `[Cin, (a,b,Cout)]` the outputs of a pixel are a row of `x_pixels [P,Cin] @ W'`, laid out
 * `[P, 2, 2, Cout]`: channels stay last, so LayerNorm2d is a LayerNorm over the last axis, and the
 * second conv is again a matmul over the `P*4` sub-pixels. The pixel order is then
 * `(i, j, a1, b1, a2, b2)` (row `4i + 2a1 + a2`, column `4j + 2b1 + b2`); only the final masks
 * `[B, M, 4h, 4w]` (M = 4 planes) are transposed into row-major order.
 */
import type { ParamScope } from '../../layers.js';

/** `ConvTranspose2d` weight `[Cin,Cout,2,2]` -> a `Linear` weight `[2*2*Cout, Cin]` (rows `(a,b,co)`). */
function subPixelWeight<T>(p: ParamScope<T>): T {
  const { ops } = p;
  const w = p.get('weight');
  const [cin, cout] = ops.shape(w) as [number, number];
  return ops.reshape(ops.transpose(w, [2, 3, 1, 0]), [4 * cout, cin]);
}

/** `x [B, P, Cin]` -> `[B, 4P, Cout]` (each pixel's 2x2 block, channels last), bias included (one linear). */
function subPixelConv<T>(p: ParamScope<T>, x: T): T {
  const { ops } = p;
  const [b, n] = ops.shape(x) as [number, number];
  const bias = p.get('bias');
  const cout = ops.shape(bias)[0] as number;
  const y = ops.linear(x, subPixelWeight(p), ops.concat([bias, bias, bias, bias], 0)); // [B, P, (a,b,co)]
  return ops.reshape(y, [b, n < 0 ? -1 : 4 * n, cout]);
}

/**
 * A `MaskUpscaler` in channels-last layout (see the file comment).
 * @param keys `[B, h*w, C]` processed image tokens (row-major pixels)
 * @param hyperIn `[B, M, C/8]`
 * @returns masks `[B, M, 4h, 4w]`
 */
export function upscaleMasksChannelsLast<T>(
  up: ParamScope<T>,
  keys: T,
  hyperIn: T,
  [b, h, w]: readonly [number, number, number],
): T {
  const { ops } = up;
  const m = ops.shape(hyperIn)[1] as number;
  const dots = headDots(up, keys, hyperIn); // [B, 16hw, M]
  const blocks = ops.reshape(dots, [b, h, w, 2, 2, 2, 2, m]); // (i, j, a1, b1, a2, b2, m)
  const planes = ops.transpose(blocks, [0, 7, 1, 3, 5, 2, 4, 6]); // (m, i, a1, a2, j, b1, b2)
  return ops.reshape(planes, [b, m, 4 * h, 4 * w]);
}

/**
 * The channels-last mask head up to the hypernetwork dot product: `keys [B,P,C]` (any P pixels) ->
 * `[B, 16P, M]`, sub-pixels in `(pixel, a1, b1, a2, b2)` order (see the file comment).
 */
export function headDots<T>(up: ParamScope<T>, keys: T, hyperIn: T): T {
  const { ops } = up;
  let x = subPixelConv(up.child(0), keys); // [B, 4P, C/4]
  x = ops.gelu(ops.layerNorm(x, up.child(1).get('weight'), up.child(1).get('bias'), 1e-6));
  x = ops.gelu(subPixelConv(up.child(3), x)); // [B, 16P, C/8]
  return ops.matmul(x, ops.transpose(hyperIn, [0, 2, 1]));
}
