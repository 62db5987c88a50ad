/**
 * Label/instance index maps from mask PNGs, and instances from semantic maps by connected
 * components. Connectivity is 8 (a pixel touches its 4 edge and 4 corner neighbours), like
 * `skimage.measure.label`'s default in 2-D: diagonal touches join one instance.
 */
import type { BinaryMask } from '@samtune/transforms';
import type { DecodedPng } from './png.js';

/** Per-pixel index `(H,W)` row-major. */
export interface IndexMap {
  readonly width: number;
  readonly height: number;
  readonly data: Int32Array;
}

/** The Pascal VOC colour map: index i -> RGB by spreading i's bits over the channels' high bits. */
export function vocColormap(n = 256): Uint8Array {
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    let r = 0;
    let g = 0;
    let b = 0;
    let c = i;
    for (let j = 7; j >= 0; j--) {
      r |= (c & 1) << j;
      g |= ((c >> 1) & 1) << j;
      b |= ((c >> 2) & 1) << j;
      c >>= 3;
    }
    out.set([r, g, b], i * 3);
  }
  return out;
}

/** `rgb24 -> index` lookup from a flat RGB list (first index wins on duplicates). */
export function colorLookup(colors: ArrayLike<number>): Map<number, number> {
  const map = new Map<number, number>();
  for (let i = 0; i + 2 < colors.length; i += 3) {
    const key = ((colors[i] as number) << 16) | ((colors[i + 1] as number) << 8) | (colors[i + 2] as number);
    if (!map.has(key)) map.set(key, i / 3);
  }
  return map;
}

/** Result of `pngToIndexMap`: the map, or the first colour that maps to no index. */
export type IndexMapResult =
  { readonly ok: true; readonly map: IndexMap } | { readonly ok: false; readonly reason: string };

/**
 * Turns a decoded mask PNG into per-pixel indices:
 * - gray (+alpha): the gray value;
 * - palette: the palette index when `paletteAsIndex` or no `colors`; else the entry's RGB looked up in `colors`;
 * - RGB(A): the RGB looked up in `colors` (required); a colour not in it is an error.
 */
export function pngToIndexMap(
  png: DecodedPng,
  colors: Map<number, number> | undefined,
  paletteAsIndex = false,
): IndexMapResult {
  const { width, height, channels, data, colorType, palette } = png;
  const out = new Int32Array(width * height);
  const miss = (rgb: number, i: number): IndexMapResult => ({
    ok: false,
    reason: `colour (${rgb >> 16},${(rgb >> 8) & 255},${rgb & 255}) at (x,y)=(${i % width},${Math.floor(i / width)}) maps to no label`,
  });
  if (colorType === 0 || colorType === 4 || (colorType === 3 && (!colors || paletteAsIndex))) {
    for (let i = 0; i < out.length; i++) out[i] = data[i * channels] as number;
  } else if (colorType === 3) {
    if (!palette) return { ok: false, reason: 'palette PNG without a PLTE chunk' };
    for (let i = 0; i < out.length; i++) {
      const k = (data[i] as number) * 3;
      const rgb = ((palette[k] ?? 0) << 16) | ((palette[k + 1] ?? 0) << 8) | (palette[k + 2] ?? 0);
      const v = colors?.get(rgb);
      if (v === undefined) return miss(rgb, i);
      out[i] = v;
    }
  } else {
    if (!colors) return { ok: false, reason: 'RGB mask but no colour map to translate colours into labels' };
    const shift = data instanceof Uint16Array ? 8 : 0;
    for (let i = 0; i < out.length; i++) {
      const o = i * channels;
      const rgb =
        (((data[o] as number) >> shift) << 16) |
        (((data[o + 1] as number) >> shift) << 8) |
        ((data[o + 2] as number) >> shift);
      const v = colors.get(rgb);
      if (v === undefined) return miss(rgb, i);
      out[i] = v;
    }
  }
  return { ok: true, map: { width, height, data: out } };
}

/** One connected region of equal index. Box XYXY in pixels; `seed` is its first pixel in raster order. */
export interface Component {
  readonly index: number;
  readonly box: [number, number, number, number];
  readonly area: number;
  readonly seed: number;
}

const DX = [-1, 0, 1, -1, 1, -1, 0, 1];
const DY = [-1, -1, -1, 0, 0, 1, 1, 1];

/** Visits the 8-connected region of `seed` (equal index); calls `visit` once per pixel. */
function flood(map: IndexMap, seed: number, seen: Uint8Array, visit: (p: number) => void): void {
  const { width, height, data } = map;
  const v = data[seed] as number;
  const stack = [seed];
  seen[seed] = 1;
  while (stack.length > 0) {
    const p = stack.pop() as number;
    visit(p);
    const x = p % width;
    const y = (p - x) / width;
    for (let k = 0; k < 8; k++) {
      const nx = x + (DX[k] as number);
      const ny = y + (DY[k] as number);
      if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
      const q = ny * width + nx;
      if (seen[q] || data[q] !== v) continue;
      seen[q] = 1;
      stack.push(q);
    }
  }
}

/** 8-connected components of every index for which `keep(index)` is true, in raster order of their seeds. */
export function connectedComponents(map: IndexMap, keep: (index: number) => boolean): Component[] {
  const { width, data } = map;
  const seen = new Uint8Array(data.length);
  const out: Component[] = [];
  for (let s = 0; s < data.length; s++) {
    if (seen[s] || !keep(data[s] as number)) continue;
    const box: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
    let area = 0;
    flood(map, s, seen, (p) => {
      const x = p % width;
      const y = (p - x) / width;
      if (x < box[0]) box[0] = x;
      if (y < box[1]) box[1] = y;
      if (x + 1 > box[2]) box[2] = x + 1;
      if (y + 1 > box[3]) box[3] = y + 1;
      area++;
    });
    out.push({ index: data[s] as number, box, area, seed: s });
  }
  return out;
}

/** The 8-connected component containing pixel `seed`, as a binary mask. */
export function componentMask(map: IndexMap, seed: number): BinaryMask {
  const mask = new Uint8Array(map.data.length);
  flood(map, seed, new Uint8Array(map.data.length), (p) => {
    mask[p] = 1;
  });
  return { width: map.width, height: map.height, data: mask };
}

/** Pixels equal to `index`, as a binary mask. */
export function indexMask(map: IndexMap, index: number): BinaryMask {
  const mask = new Uint8Array(map.data.length);
  for (let i = 0; i < mask.length; i++) mask[i] = map.data[i] === index ? 1 : 0;
  return { width: map.width, height: map.height, data: mask };
}

/** Tight boxes and areas of every index in `indices` (one pass). */
export function indexStats(
  map: IndexMap,
  keep: (index: number) => boolean,
): Map<number, { box: [number, number, number, number]; area: number }> {
  const { width, data } = map;
  const out = new Map<number, { box: [number, number, number, number]; area: number }>();
  for (let p = 0; p < data.length; p++) {
    const v = data[p] as number;
    if (!keep(v)) continue;
    const x = p % width;
    const y = (p - x) / width;
    let s = out.get(v);
    if (!s) {
      s = { box: [x, y, x + 1, y + 1], area: 0 };
      out.set(v, s);
    }
    if (x < s.box[0]) s.box[0] = x;
    if (x + 1 > s.box[2]) s.box[2] = x + 1;
    s.box[3] = y + 1;
    s.area++;
  }
  return out;
}
