/**
 * Hiera's position embedding (`Hiera._get_pos_embed`), a build-time constant: `pos_embed [1,C,h,w]`
 * resized to the token grid with torch's bicubic `F.interpolate(mode='bicubic', align_corners=False)`
 * (A = -0.75, border taps clamped), plus `pos_embed_window [1,C,w0,w0]` tiled over the grid.
 */
import { floatTensor, toFloat32, type FloatTensor, type HostTensor } from '@samtune/tensor';

const CUBIC_A = -0.75;

/** torch's `cubic_convolution1` (|t| <= 1) and `cubic_convolution2` (1 < |t| < 2). */
function cubicWeights(t: number): [number, number, number, number] {
  const c1 = (x: number): number => ((CUBIC_A + 2) * x - (CUBIC_A + 3)) * x * x + 1;
  const c2 = (x: number): number => ((CUBIC_A * x - 5 * CUBIC_A) * x + 8 * CUBIC_A) * x - 4 * CUBIC_A;
  return [c2(t + 1), c1(t), c1(1 - t), c2(2 - t)];
}

/** Per output index: the 4 clamped source indices and their weights (one axis). */
function bicubicAxis(inSize: number, outSize: number): { idx: Int32Array; w: Float64Array } {
  const scale = inSize / outSize;
  const idx = new Int32Array(outSize * 4);
  const w = new Float64Array(outSize * 4);
  for (let o = 0; o < outSize; o++) {
    const src = scale * (o + 0.5) - 0.5; // not clamped at 0 for cubic (torch)
    const i0 = Math.floor(src);
    const ws = cubicWeights(src - i0);
    for (let k = 0; k < 4; k++) {
      idx[o * 4 + k] = Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
      w[o * 4 + k] = ws[k]!;
    }
  }
  return { idx, w };
}

/**
 * The summed position embedding of a `grid x grid` token map, NHWC `[1,grid,grid,C]` (added to the
 * patch embedding in that layout).
 * @param posEmbed `[1,C,h,w]`; @param posEmbedWindow `[1,C,w0,w0]` with `grid % w0 === 0`.
 */
export function hieraPosEmbed(posEmbed: HostTensor, posEmbedWindow: HostTensor, grid: number): FloatTensor {
  const [, c, h, w] = posEmbed.shape as [number, number, number, number];
  const w0 = posEmbedWindow.shape[2] as number;
  const pe = toFloat32(posEmbed).data;
  const win = toFloat32(posEmbedWindow).data;
  const ay = bicubicAxis(h, grid);
  const ax = bicubicAxis(w, grid);
  const out = new Float32Array(grid * grid * c);
  const row = new Float64Array(grid); // one channel's resized row
  for (let ch = 0; ch < c; ch++) {
    const plane = ch * h * w;
    for (let y = 0; y < grid; y++) {
      row.fill(0);
      for (let ky = 0; ky < 4; ky++) {
        const sy = ay.idx[y * 4 + ky]!;
        const wy = ay.w[y * 4 + ky]!;
        for (let x = 0; x < grid; x++) {
          let s = 0;
          for (let kx = 0; kx < 4; kx++) s += ax.w[x * 4 + kx]! * pe[plane + sy * w + ax.idx[x * 4 + kx]!]!;
          row[x] = row[x]! + wy * s;
        }
      }
      const winRow = ch * w0 * w0 + (y % w0) * w0;
      for (let x = 0; x < grid; x++) {
        out[(y * grid + x) * c + ch] = Math.fround(row[x]!) + win[winRow + (x % w0)]!;
      }
    }
  }
  return floatTensor(out, [1, grid, grid, c]);
}
