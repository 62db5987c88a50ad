/**
 * Window partition with padding, shared by both encoders: segment-anything's
 * `window_partition`/`window_unpartition` and TinyViT's inline version compute the same permutation
 * (pad bottom/right with zeros to a multiple of the window, then `(B,nH,ws,nW,ws,C) -> (B,nH,nW,ws,ws,C)`).
 */
import type { Ops } from '@samtune/tensor';

/** Layout of a partitioned `[B,H,W,C]` map. */
export interface WindowGrid {
  readonly batch: number;
  /** Unpadded (H,W). */
  readonly height: number;
  readonly width: number;
  /** Padded (Hp,Wp), multiples of the window. */
  readonly paddedHeight: number;
  readonly paddedWidth: number;
  readonly window: number;
  readonly channels: number;
}

/** Zero rows/columns that bring `size` to a multiple of `window`. */
export function windowPad(size: number, window: number): number {
  return (window - (size % window)) % window;
}

/**
 * `x [B,H,W,C]` -> windows `[B*nH*nW, ws, ws, C]` (row-major over windows), zero-padding bottom/right
 * first. Returns the grid needed to undo it.
 */
export function windowPartition<T>(ops: Ops<T>, x: T, window: number): { windows: T; grid: WindowGrid } {
  const [b, h, w, c] = ops.shape(x) as [number, number, number, number];
  const padH = windowPad(h, window);
  const padW = windowPad(w, window);
  const padded =
    padH > 0 || padW > 0
      ? ops.pad(x, [
          [0, 0],
          [0, padH],
          [0, padW],
          [0, 0],
        ])
      : x;
  const hp = h + padH;
  const wp = w + padW;
  const nH = hp / window;
  const nW = wp / window;
  const blocks = ops.reshape(padded, [b, nH, window, nW, window, c]);
  const windows = ops.reshape(ops.transpose(blocks, [0, 1, 3, 2, 4, 5]), [b * nH * nW, window, window, c]);
  return {
    windows,
    grid: { batch: b, height: h, width: w, paddedHeight: hp, paddedWidth: wp, window, channels: c },
  };
}

/** Inverse of `windowPartition`: windows `[B*nH*nW, ws, ws, C]` -> `[B,H,W,C]` with the padding cropped. */
export function windowUnpartition<T>(ops: Ops<T>, windows: T, grid: WindowGrid): T {
  const { batch, height, width, paddedHeight, paddedWidth, window } = grid;
  const c = ops.shape(windows)[3] as number;
  const nH = paddedHeight / window;
  const nW = paddedWidth / window;
  const blocks = ops.reshape(windows, [batch, nH, nW, window, window, c]);
  let x = ops.reshape(ops.transpose(blocks, [0, 1, 3, 2, 4, 5]), [batch, paddedHeight, paddedWidth, c]);
  if (paddedHeight > height) x = ops.slice(x, 1, 0, height);
  if (paddedWidth > width) x = ops.slice(x, 2, 0, width);
  return x;
}
