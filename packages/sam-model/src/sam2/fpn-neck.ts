/**
 * SAM 2's `FpnNeck` (`sam2/modeling/backbones/image_encoder.py`) in image mode: a 1x1 lateral conv
 * per level (`convs.0` takes the DEEPEST level), a top-down pass that adds the nearest-x2 upsampled
 * coarser result only at `fpnTopDownLevels`, then `scalp` coarsest levels dropped. The position
 * encodings of the neck feed only the video memory and are not computed.
 */
import type { Ops } from '@samtune/tensor';
import type { ParamScope } from '../layers.js';
import { conv2d } from '../layers.js';
import type { HieraConfig } from './config.js';

/** torch `F.interpolate(scale_factor=2, mode='nearest')` on `x [B,C,H,W]` -> `[B,C,2H,2W]`. */
export function upsampleNearest2x<T>(ops: Ops<T>, x: T): T {
  const [b, c, h, w] = ops.shape(x) as [number, number, number, number];
  const r = ops.reshape(x, [b, c, h, 1, w, 1]);
  const cols = ops.concat([r, r], 5);
  return ops.reshape(ops.concat([cols, cols], 3), [b, c, 2 * h, 2 * w]);
}

/**
 * `levels` NCHW, finest first (the trunk's stage outputs) -> `[B,dModel,*]` per kept level, finest
 * first (`levels.length - scalp` of them). `p` is the `image_encoder.neck.` scope.
 */
export function fpnNeck<T>(p: ParamScope<T>, config: HieraConfig, levels: readonly T[]): T[] {
  const n = levels.length - 1;
  const out: T[] = new Array<T>(levels.length);
  let prev: T | undefined;
  for (let i = n; i >= 0; i--) {
    const lateral = conv2d(
      p
        .child('convs')
        .child(n - i)
        .child('conv'),
      levels[i]!,
    );
    prev =
      prev !== undefined && config.fpnTopDownLevels.includes(i)
        ? p.ops.add(lateral, upsampleNearest2x(p.ops, prev))
        : lateral;
    out[i] = prev;
  }
  return out.slice(0, out.length - config.scalp);
}
