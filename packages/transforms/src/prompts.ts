/**
 * Prompts derived from a ground-truth mask, in the mask's own pixel frame (normally the ORIGINAL image).
 *
 * Convention (SAM's): coordinates are pixel INDICES. A point `[x, y]` names the pixel in column x,
 * row y; a box `[x0, y0, x1, y1]` is inclusive: `x1`/`y1` are the indices of the last column/row
 * inside the mask (max x, not max x + 1), like SAM's `batched_mask_to_box`. SAM's prompt encoder adds
 * 0.5 to every coordinate to reach the pixel centre, so integer coordinates are exactly what it expects.
 */
import { distanceToBackground } from './distance.js';
import type { Box, Point } from './geometry.js';
import { assertMask, hasForeground, type BinaryMask, type ImageSize } from './mask.js';
import type { Rng } from './rng.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when a prompt cannot be derived (empty mask, no background, bad arguments). */
export class PromptError extends SamtuneError {
  readonly code: string = 'prompt';
  readonly kind: ErrorKind = 'input';
}

function nonEmpty(fn: string, mask: BinaryMask): void {
  assertMask(fn, 'mask', mask);
  if (!hasForeground(mask)) {
    throw new PromptError(
      `${fn}(mask): expected a mask with at least one pixel inside, got an empty (H,W)=(${mask.height},${mask.width}) mask`,
    );
  }
}

/**
 * Tight box of the mask: `[minX, minY, maxX, maxY]`, inclusive pixel indices (see module notes).
 * @throws PromptError for an empty mask.
 */
export function maskBox(mask: BinaryMask): [number, number, number, number] {
  nonEmpty('maskBox', mask);
  const { width: W, height: H, data } = mask;
  let x0 = W;
  let y0 = H;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < H; y++) {
    const row = y * W;
    for (let x = 0; x < W; x++) {
      if (!data[row + x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  return [x0, y0, x1, y1];
}

/** Options of `jitterBox`. */
export interface JitterOptions {
  /** Largest shift of a coordinate, in pixels. */
  readonly maxPixels?: number;
  /** Largest shift as a fraction of the box side (x coordinates: width, y coordinates: height). */
  readonly fraction?: number;
  readonly rng: Rng;
}

/**
 * Moves each coordinate of an XYXY box independently by a uniform offset in `[-m, m]`, where
 * `m = fraction * side` and/or `maxPixels` (the smaller one when both are given), then clamps to the
 * image (`[0, W-1]` x `[0, H-1]`, inclusive indices) and reorders so that `x0 <= x1`, `y0 <= y1`.
 * Offsets are real numbers; draw order is x0, y0, x1, y1.
 */
export function jitterBox(box: Box, options: JitterOptions, imageSize: ImageSize): [number, number, number, number] {
  const { maxPixels, fraction, rng } = options;
  if (maxPixels === undefined && fraction === undefined) {
    throw new PromptError('jitterBox(options): expected maxPixels and/or fraction, got neither');
  }
  const side = [box[2] - box[0] + 1, box[3] - box[1] + 1];
  const limit = (axis: 0 | 1): number => {
    const f = fraction === undefined ? Infinity : fraction * (side[axis] as number);
    return Math.max(0, Math.min(f, maxPixels ?? Infinity));
  };
  const mx = limit(0);
  const my = limit(1);
  const clamp = (v: number, hi: number): number => Math.min(Math.max(v, 0), hi);
  const W = imageSize.width - 1;
  const H = imageSize.height - 1;
  const a = clamp(box[0] + rng.uniform(-mx, mx), W);
  const b = clamp(box[1] + rng.uniform(-my, my), H);
  const c = clamp(box[2] + rng.uniform(-mx, mx), W);
  const d = clamp(box[3] + rng.uniform(-my, my), H);
  return [Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)];
}

/** `n` distinct picks from `pool` (a partial Fisher–Yates on a copy); with repeats when `n > pool.length`. */
function pick(pool: Int32Array, n: number, rng: Rng): number[] {
  const out: number[] = [];
  if (n <= pool.length) {
    const a = pool.slice();
    for (let i = 0; i < n; i++) {
      const j = i + rng.int(a.length - i);
      const t = a[j] as number;
      a[j] = a[i] as number;
      a[i] = t;
      out.push(t);
    }
  } else {
    for (let i = 0; i < n; i++) out.push(pool[rng.int(pool.length)] as number);
  }
  return out;
}

function indicesWhere(
  mask: BinaryMask,
  inside: boolean,
  x0 = 0,
  y0 = 0,
  x1 = mask.width - 1,
  y1 = mask.height - 1,
): Int32Array {
  const out: number[] = [];
  for (let y = y0; y <= y1; y++) {
    const row = y * mask.width;
    for (let x = x0; x <= x1; x++) if ((mask.data[row + x] !== 0) === inside) out.push(row + x);
  }
  return Int32Array.from(out);
}

function toPoints(idx: number[], width: number): Point[] {
  return idx.map((i) => [i % width, Math.floor(i / width)] as const);
}

/**
 * `n` random pixels inside the mask (training prompts), uniform, distinct while the mask has at least
 * `n` pixels (with repeats otherwise). Deterministic for a given `rng` state.
 * @returns `n` points `[x, y]` (pixel indices).
 */
export function samplePositivePoints(mask: BinaryMask, n: number, rng: Rng): Point[] {
  nonEmpty('samplePositivePoints', mask);
  return toPoints(pick(indicesWhere(mask, true), n, rng), mask.width);
}

/**
 * The deterministic interior point (evaluation prompt): the mask pixel farthest from the background
 * (exact Euclidean distance transform; outside the image counts as background). Among equally far
 * pixels, the one nearest to their mean position wins (ties then by raster order), so a rectangle gives
 * its centre. Unlike a polygon's vertex mean, it always lies inside the mask, even for U or ring shapes.
 * @returns `[x, y]` (pixel indices).
 */
export function interiorPoint(mask: BinaryMask): Point {
  nonEmpty('interiorPoint', mask);
  const dist = distanceToBackground(mask);
  let best = 0;
  for (let i = 0; i < dist.length; i++) if ((dist[i] as number) > best) best = dist[i] as number;
  const W = mask.width;
  const ridge: number[] = [];
  for (let i = 0; i < dist.length; i++) if ((dist[i] as number) >= best - 1e-9) ridge.push(i);
  let mx = 0;
  let my = 0;
  for (const i of ridge) {
    mx += i % W;
    my += Math.floor(i / W);
  }
  mx /= ridge.length;
  my /= ridge.length;
  let pickIdx = ridge[0] as number;
  let pickD = Infinity;
  for (const i of ridge) {
    const dx = (i % W) - mx;
    const dy = Math.floor(i / W) - my;
    const d = dx * dx + dy * dy;
    if (d < pickD - 1e-9) {
      pickD = d;
      pickIdx = i;
    }
  }
  return [pickIdx % W, Math.floor(pickIdx / W)];
}

/** Options of `sampleNegativePoints`. */
export interface NegativePointOptions {
  /**
   * Pixels added around the mask's box to form the sampling region. Default: 10% of the box's longer
   * side, at least 4.
   */
  readonly margin?: number;
}

/**
 * `n` random pixels OUTSIDE the mask, near it: inside the mask's box grown by `margin` (clamped to the
 * image). When that region holds no background pixel, the whole image's background is used.
 * Distinct while there are enough candidates (repeats otherwise).
 * @returns `n` points `[x, y]` (pixel indices), all with `mask = 0`.
 * @throws PromptError when the mask covers the whole image.
 */
export function sampleNegativePoints(
  mask: BinaryMask,
  n: number,
  rng: Rng,
  options: NegativePointOptions = {},
): Point[] {
  const [bx0, by0, bx1, by1] = maskBox(mask);
  const margin = options.margin ?? Math.max(4, Math.round(0.1 * Math.max(bx1 - bx0 + 1, by1 - by0 + 1)));
  if (!(margin >= 0))
    throw new PromptError(`sampleNegativePoints(options.margin): expected a number >= 0, got ${margin}`);
  const m = Math.round(margin);
  let pool = indicesWhere(
    mask,
    false,
    Math.max(0, bx0 - m),
    Math.max(0, by0 - m),
    Math.min(mask.width - 1, bx1 + m),
    Math.min(mask.height - 1, by1 + m),
  );
  if (pool.length === 0) pool = indicesWhere(mask, false);
  if (pool.length === 0) {
    throw new PromptError(
      `sampleNegativePoints(mask): expected some background pixels, got a mask covering all of (H,W)=(${mask.height},${mask.width})`,
    );
  }
  return toPoints(pick(pool, n, rng), mask.width);
}

/** Which prompt a caller asks for. `both` = use whatever is available, box first (box-priority rule). */
export type PromptMode = 'box' | 'points' | 'both';

/** Prompts available for one object: a box and/or points with labels (1 = foreground, 0 = background). */
export interface PromptCandidates {
  readonly box?: Box;
  readonly points?: readonly Point[];
  readonly labels?: readonly number[];
}

/** The single prompt given to the model. */
export type SelectedPrompt =
  | { readonly kind: 'box'; readonly box: Box }
  | { readonly kind: 'points'; readonly points: readonly Point[]; readonly labels: readonly number[] };

/**
 * The box-priority rule ("box wins when both exist"): with `mode = 'both'` (default), if a box is
 * available the prompt is the box ALONE and the points are dropped; points are used only when there is
 * no box. `mode = 'box'` / `'points'` require that kind. Labels default to 1 for every point.
 * @throws PromptError when the requested kind is missing, or labels do not match the points.
 */
export function selectPrompt(candidates: PromptCandidates, mode: PromptMode = 'both'): SelectedPrompt {
  const { box, points, labels } = candidates;
  const hasPoints = points !== undefined && points.length > 0;
  if (box !== undefined && mode !== 'points') return { kind: 'box', box };
  if (hasPoints && mode !== 'box') {
    if (labels !== undefined && labels.length !== points.length) {
      throw new PromptError(
        `selectPrompt(candidates.labels): expected ${points.length} labels (one per point), got ${labels.length}`,
      );
    }
    return { kind: 'points', points, labels: labels ?? points.map(() => 1) };
  }
  throw new PromptError(
    `selectPrompt(candidates): mode '${mode}' expected ${mode === 'both' ? 'a box or points' : mode === 'box' ? 'a box' : 'points'}, got ${box ? 'a box' : 'no box'} and ${hasPoints ? points.length : 0} points`,
  );
}

/** A prompt to check against an image: XY points and an optional XYXY box, ORIGINAL image pixels. */
export interface PromptToValidate {
  readonly points?: readonly (readonly [number, number])[];
  readonly box?: readonly [number, number, number, number];
}

/** Thrown by `validatePrompt` by default: `field` (`points[1]`, `box`) and the problem alone in `detail`. */
export class PromptRangeError extends SamtuneError {
  readonly code: string = 'prompt-range';
  readonly kind: ErrorKind = 'input';
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

/**
 * The one prompt rule of samtune (CLI `predict`, the HTTP server): every coordinate finite, points
 * inside the `width x height` image (`0 <= x <= W`, `0 <= y <= H`), the box XYXY with
 * `0 <= x0 < x1 <= W` and `0 <= y0 < y1 <= H`. Throws `toError(field, detail)` for the first
 * problem (a `PromptRangeError` unless the caller maps it, e.g. to its HTTP 400 error).
 */
export function validatePrompt(
  prompt: PromptToValidate,
  width: number,
  height: number,
  toError: (field: string, detail: string) => Error = (field, detail) => new PromptRangeError(field, detail),
): void {
  const finite = (v: number, field: string): void => {
    if (!Number.isFinite(v)) throw toError(field, `expected a finite number, got ${v}`);
  };
  (prompt.points ?? []).forEach(([x, y], i) => {
    finite(x, `points[${i}][0]`);
    finite(y, `points[${i}][1]`);
    if (x < 0 || x > width || y < 0 || y > height)
      throw toError(
        `points[${i}]`,
        `expected a point inside the ${width}x${height} image (0 <= x <= ${width}, 0 <= y <= ${height}), got [${x}, ${y}]`,
      );
  });
  if (prompt.box) {
    prompt.box.forEach((v, i) => finite(v, `box[${i}]`));
    const [x0, y0, x1, y1] = prompt.box;
    if (x0 < 0 || y0 < 0 || x1 > width || y1 > height || x0 >= x1 || y0 >= y1)
      throw toError(
        'box',
        `expected XYXY inside the ${width}x${height} image with 0 <= x0 < x1 <= ${width} and 0 <= y0 < y1 <= ${height}, got [${prompt.box.join(', ')}]`,
      );
  }
}
