/**
 * Polygon rasterisation.
 *
 * `rasterizePolygon` follows the rule of pycocotools (`frPyObjects` + `decode`, i.e. COCO's own
 * masks and `area`): vertices are snapped to a 1/5-pixel grid (`trunc(5v + 0.5)`), every edge is
 * walked with a DDA along its major axis, and wherever the walk steps across the vertical line
 * through a pixel-column centre (x + 0.5) it toggles the column at row `ceil(y)` (y the crossing
 * height, also on the 1/5 grid, clamped to [0, H]). A pixel is inside when an odd number of toggles
 * lie at or above it: even-odd filling of pixel centres with a boundary quantised to 0.2 px.
 * Several polygons of one annotation are united (OR), as pycocotools merges them.
 *
 * `rasterizePolygonCenters` is the unquantised even-odd rule on pixel centres; the two differ only
 * on pixels whose centre lies within 0.2 px of an edge (see the package README for counts on a real
 * dataset).
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown for a polygon that cannot be rasterised (odd length, < 3 points, non-finite). */
export class PolygonFormatError extends SamtuneError {
  readonly code: string = 'polygon-format';
  readonly kind: ErrorKind = 'input';
}

function checkPolygon(fn: string, xy: ArrayLike<number>): void {
  if (xy.length % 2 !== 0 || xy.length < 6) {
    throw new PolygonFormatError(
      `${fn}(xy): expected an even number >= 6 of coordinates [x0,y0,x1,y1,...], got ${xy.length}`,
    );
  }
  for (let i = 0; i < xy.length; i++) {
    if (!Number.isFinite(xy[i]))
      throw new PolygonFormatError(`${fn}(xy): expected finite coordinates, got ${xy[i]} at index ${i}`);
  }
}

function checkSize(fn: string, height: number, width: number, out: Uint8Array | undefined): Uint8Array {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw new PolygonFormatError(`${fn}(height, width): expected positive integers, got (H,W)=(${height},${width})`);
  }
  if (out && out.length !== height * width) {
    throw new PolygonFormatError(`${fn}(out): expected length H*W = ${height * width}, got ${out.length}`);
  }
  return out ?? new Uint8Array(height * width);
}

/**
 * Clips a polygon to the rectangle `[x0,x1]x[y0,y1]` (Sutherland-Hodgman, one side at a time).
 * Inside the rectangle the even-odd interior is unchanged; the edges it adds run along the sides.
 * @returns flat `[x0,y0,…]`, possibly with fewer than 3 points (nothing inside)
 */
export function clipPolygonToRect(xy: ArrayLike<number>, x0: number, y0: number, x1: number, y1: number): number[] {
  let pts: number[] = Array.from(xy);
  const sides: [axis: 0 | 1, bound: number, keepAbove: boolean][] = [
    [0, x0, true],
    [0, x1, false],
    [1, y0, true],
    [1, y1, false],
  ];
  for (const [axis, bound, above] of sides) {
    const n = pts.length / 2;
    if (n === 0) break;
    const out: number[] = [];
    const inside = (i: number): boolean => (above ? pts[2 * i + axis]! >= bound : pts[2 * i + axis]! <= bound);
    for (let i = 0; i < n; i++) {
      const j = (i + n - 1) % n;
      const [ci, pi] = [inside(i), inside(j)];
      if (ci !== pi) {
        const t = (bound - pts[2 * j + axis]!) / (pts[2 * i + axis]! - pts[2 * j + axis]!);
        const x = pts[2 * j]! + t * (pts[2 * i]! - pts[2 * j]!);
        const y = pts[2 * j + 1]! + t * (pts[2 * i + 1]! - pts[2 * j + 1]!);
        out.push(axis === 0 ? bound : x, axis === 1 ? bound : y);
      }
      if (ci) out.push(pts[2 * i]!, pts[2 * i + 1]!);
    }
    pts = out;
  }
  return pts;
}

/**
 * The polygon as walked: unchanged (pycocotools' walk exactly) when it lies within one image size
 * `m = max(W, H)` of the image, else clipped to that margin first, so the walk (one step per 1/5 pixel
 * of outline) takes time bounded by the vertex count times the image size, never by the coordinates
 * (a 2e7-pixel edge would walk 1e8 steps).
 */
function withinMargin(xy: ArrayLike<number>, height: number, width: number): ArrayLike<number> {
  const m = Math.max(width, height);
  for (let i = 0; i < xy.length; i += 2) {
    const x = xy[i] as number;
    const y = xy[i + 1] as number;
    if (x < -m || x > width + m || y < -m || y > height + m)
      return clipPolygonToRect(xy, -m, -m, width + m, height + m);
  }
  return xy;
}

/**
 * Visits the boundary points of the polygon walked on the 1/5-pixel grid, in order (shared vertices
 * repeated). Nothing is allocated per point: memory does not grow with the outline's length.
 */
function walkBoundary(xy: ArrayLike<number>, visit: (u: number, v: number) => void): void {
  const n = xy.length / 2;
  const qx = new Int32Array(n + 1);
  const qy = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    qx[i] = Math.trunc(5 * (xy[2 * i] as number) + 0.5);
    qy[i] = Math.trunc(5 * (xy[2 * i + 1] as number) + 0.5);
  }
  qx[n] = qx[0] as number;
  qy[n] = qy[0] as number;
  for (let i = 0; i < n; i++) {
    const ax = qx[i] as number;
    const ay = qy[i] as number;
    const bx = qx[i + 1] as number;
    const by = qy[i + 1] as number;
    const dx = Math.abs(bx - ax);
    const dy = Math.abs(by - ay);
    if (dx === 0 && dy === 0) {
      visit(ax, ay);
    } else if (dx >= dy) {
      // Major axis x; the minor coordinate is interpolated from the left end, points emitted a -> b.
      const flip = ax > bx;
      const [lx, ly, ry] = flip ? [bx, by, ay] : [ax, ay, by];
      const s = (ry - ly) / dx;
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        visit(lx + t, Math.trunc(ly + s * t + 0.5));
      }
    } else {
      const flip = ay > by;
      const [lx, ly, rx] = flip ? [bx, by, ax] : [ax, ay, bx];
      const s = (rx - lx) / dy;
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        visit(Math.trunc(lx + s * t + 0.5), ly + t);
      }
    }
  }
}

/**
 * Sets the pixels of a row-major mask that lie after an odd number of toggles in column-major order
 * (`parity[c*H + row]` is 1 where an odd number of toggles fell): the intervals [t0,t1), [t2,t3), … of
 * the sorted toggles, without sorting or storing them.
 */
function fillParity(parity: Uint8Array, touched: Uint8Array, height: number, width: number, out: Uint8Array): void {
  let on = 0;
  for (let x = 0; x < width; x++) {
    if (on === 0 && !touched[x]) continue; // no toggle in this column and outside: nothing to set
    for (let y = 0, q = x * height; y < height; y++, q++) {
      on ^= parity[q] as number;
      if (on) out[y * width + x] = 1;
    }
  }
}

/**
 * Rasterises one polygon `[x0,y0,x1,y1,…]` (original pixels) into a row-major `(H,W)` 0/1 mask with
 * pycocotools' rule (module notes). Pixels already set in `out` stay set, so calling it once per
 * polygon on the same `out` gives the union.
 * @returns `out` (allocated when not given), length `height * width`.
 */
export function rasterizePolygon(xy: ArrayLike<number>, height: number, width: number, out?: Uint8Array): Uint8Array {
  checkPolygon('rasterizePolygon', xy);
  const mask = checkSize('rasterizePolygon', height, width, out);
  const walked = withinMargin(xy, height, width);
  if (walked.length < 6) return mask;
  // Toggles kept as parities (one byte per pixel, plus row H of the last column): memory bounded by
  // the image, whatever the outline's length.
  const parity = new Uint8Array(height * width + 1);
  const touched = new Uint8Array(width + 1);
  let up = Number.NaN;
  let vp = 0;
  walkBoundary(walked, (uj, vj) => {
    const prev = up;
    const vprev = vp;
    up = uj;
    vp = vj;
    if (uj === prev || Number.isNaN(prev)) return;
    const left = uj < prev ? uj : uj - 1;
    // Column c is crossed when the walk steps between grid columns 5c+2 and 5c+3.
    if ((((left - 2) % 5) + 5) % 5 !== 0) return;
    const c = (left - 2) / 5;
    if (c < 0 || c > width - 1) return;
    const row = Math.min(height, Math.max(0, Math.ceil((Math.min(vj, vprev) - 2) / 5)));
    const k = c * height + row;
    parity[k] = (parity[k] as number) ^ 1;
    touched[Math.floor(k / height)] = 1;
  });
  fillParity(parity, touched, height, width, mask);
  return mask;
}

/**
 * Even-odd rasterisation sampling exact pixel centres (x+0.5, y+0.5), no grid snapping. Same
 * contract as `rasterizePolygon`; provided to compare with it.
 */
export function rasterizePolygonCenters(
  xy: ArrayLike<number>,
  height: number,
  width: number,
  out?: Uint8Array,
): Uint8Array {
  checkPolygon('rasterizePolygonCenters', xy);
  const mask = checkSize('rasterizePolygonCenters', height, width, out);
  const n = xy.length / 2;
  let minX = Infinity;
  let maxX = -Infinity;
  for (let i = 0; i < n; i++) {
    minX = Math.min(minX, xy[2 * i] as number);
    maxX = Math.max(maxX, xy[2 * i] as number);
  }
  const c0 = Math.max(0, Math.ceil(minX - 0.5));
  const c1 = Math.min(width - 1, Math.floor(maxX - 0.5));
  const ys: number[] = [];
  for (let c = c0; c <= c1; c++) {
    const X = c + 0.5;
    ys.length = 0;
    for (let i = 0; i < n; i++) {
      const x0 = xy[2 * i] as number;
      const y0 = xy[2 * i + 1] as number;
      const k = (i + 1) % n;
      const x1 = xy[2 * k] as number;
      const y1 = xy[2 * k + 1] as number;
      if ((x0 <= X && X < x1) || (x1 <= X && X < x0)) ys.push(y0 + ((X - x0) * (y1 - y0)) / (x1 - x0));
    }
    ys.sort((a, b) => a - b);
    for (let i = 0; i + 1 < ys.length; i += 2) {
      const r0 = Math.max(0, Math.ceil((ys[i] as number) - 0.5));
      const r1 = Math.min(height, Math.ceil((ys[i + 1] as number) - 0.5));
      for (let r = r0; r < r1; r++) mask[r * width + c] = 1;
    }
  }
  return mask;
}

/** Bounds `[minX, minY, maxX, maxY]` of one or more flat polygons. */
export function polygonBounds(polygons: readonly ArrayLike<number>[]): [number, number, number, number] {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const p of polygons) {
    for (let i = 0; i + 1 < p.length; i += 2) {
      const x = p[i] as number;
      const y = p[i + 1] as number;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return [x0, y0, x1, y1];
}
