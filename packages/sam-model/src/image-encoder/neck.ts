/**
 * The neck shared by SAM's encoders: `Conv2d(C,256,1,bias=False) -> LayerNorm2d -> Conv2d(256,256,3,
 * pad 1, bias=False) -> LayerNorm2d` (eps 1e-6), checkpoint keys `neck.{0,1,2,3}`.
 */
import type { ParamScope } from '../layers.js';
import { conv2d, layerNorm2d } from '../layers.js';

/** `x [B,C,H,W]` -> `[B,256,H,W]`; `p` is the encoder scope (`image_encoder.`). */
export function neck<T>(p: ParamScope<T>, x: T): T {
  const n = p.child('neck');
  let y = conv2d(n.child(0), x);
  y = layerNorm2d(n.child(1), y, 1e-6);
  y = conv2d(n.child(2), y, { pad: 1 });
  return layerNorm2d(n.child(3), y, 1e-6);
}
