/**
 * Validation of annotation geometry shared by the readers (numbers, polygons, RLE, boxes) and the
 * lazy decoding of an instance's shape parts into a mask.
 */
import type { BinaryMask } from '@samtune/transforms';
import {
  InvalidBoxError,
  MalformedAnnotationError,
  InvalidPolygonError,
  InvalidRleError,
  RleSizeMismatchError,
  type DatasetErrorLocation,
} from './errors.js';
import { describeJson } from './json-text.js';
import type { BoxXYXY } from './model.js';
import { polygonBounds, rasterizePolygon } from './polygon.js';
import { checkRleCounts, decodeRleString, rleBounds, rleToMask } from './rle.js';

/** One shape of an instance. RLE strings are kept compressed until the mask is asked for. */
export type MaskPart =
  | { readonly kind: 'polygon'; readonly xy: readonly number[] }
  | { readonly kind: 'rle'; readonly counts: readonly number[] }
  | { readonly kind: 'rle-string'; readonly counts: string };

/** How far (pixels) a box may reach beyond the image before it is an error; it is clamped within. */
export const BOX_TOLERANCE_PX = 1;

/** A finite number, or a string holding one (some exporters write numbers as strings); else undefined. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** COCO `iscrowd`: absent, 0/1, true/false or "0"/"1"; anything else throws MalformedAnnotationError. */
export function parseCrowd(raw: unknown, loc: DatasetErrorLocation): boolean {
  if (raw === undefined || raw === null || raw === false) return false;
  if (raw === true) return true;
  const n = toNumber(raw);
  if (n === 0 || n === 1) return n === 1;
  throw new MalformedAnnotationError(loc, `expected 'iscrowd' 0 or 1, got ${describeJson(raw)}`, 'annotation');
}

/** Validates a flat polygon `[x0,y0,x1,y1,…]` (numbers or numeric strings): >= 3 points, finite. */
export function parsePolygon(raw: unknown, loc: DatasetErrorLocation): number[] {
  if (!Array.isArray(raw))
    throw new InvalidPolygonError(loc, `expected an array of coordinates [x0,y0,x1,y1,...], got ${typeof raw}`);
  if (raw.length % 2 !== 0)
    throw new InvalidPolygonError(loc, `expected an even number of coordinates, got ${raw.length}`);
  if (raw.length < 6)
    throw new InvalidPolygonError(loc, `expected at least 3 points (6 coordinates), got ${raw.length / 2} point(s)`);
  const xy = new Array<number>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const n = toNumber(raw[i]);
    if (n === undefined)
      throw new InvalidPolygonError(loc, `expected finite numbers, got ${describeJson(raw[i])} at index ${i}`);
    xy[i] = n;
  }
  return xy;
}

/**
 * Validates a COCO-style RLE `{ size: [h, w], counts: string | number[] }` against the image size.
 * Compressed strings are decoded once here to check them, and kept compressed.
 */
export function parseRle(raw: unknown, image: { width: number; height: number }, loc: DatasetErrorLocation): MaskPart {
  if (typeof raw !== 'object' || raw === null)
    throw new InvalidRleError(loc, `expected an object {size, counts}, got ${describeJson(raw)}`);
  const { size, counts } = raw as { size?: unknown; counts?: unknown };
  if (!Array.isArray(size) || size.length !== 2)
    throw new InvalidRleError(loc, `expected size [h, w], got ${describeJson(size)}`);
  const h = toNumber(size[0]);
  const w = toNumber(size[1]);
  if (h !== image.height || w !== image.width) throw new RleSizeMismatchError(loc, size, image);
  let part: MaskPart;
  let values: readonly number[];
  if (typeof counts === 'string') {
    try {
      values = decodeRleString(counts);
    } catch (err) {
      throw new InvalidRleError(loc, err instanceof Error ? err.message : String(err));
    }
    part = { kind: 'rle-string', counts };
  } else if (Array.isArray(counts)) {
    values = counts.map((c) => (typeof c === 'number' ? c : Number.NaN));
    part = { kind: 'rle', counts: values };
  } else {
    throw new InvalidRleError(loc, `expected counts as a string or a number array, got ${typeof counts}`);
  }
  const bad = checkRleCounts(values, image.height, image.width);
  if (bad) throw new InvalidRleError(loc, bad);
  return part;
}

/** Boundary points of an ellipse polygon (Datumaro's `Ellipse.as_polygon` uses 720). */
export const ELLIPSE_POINTS = 720;

/**
 * An ellipse (CVAT / Datumaro `ellipse`: `points` [x1, y1, x2, y2], the corners of its unrotated
 * bounding box) as a polygon of `ELLIPSE_POINTS` points, rotated by `rotationDeg` degrees around its
 * centre (CVAT's `rotation`, clockwise on screen), so that it rasterises like CVAT's mask exporters.
 * Malformed points throw InvalidPolygonError.
 */
export function ellipsePolygon(raw: unknown, rotationDeg: number, loc: DatasetErrorLocation): number[] {
  const v = Array.isArray(raw) && raw.length === 4 ? raw.map(toNumber) : [];
  if (v.length !== 4 || v.some((n) => n === undefined))
    throw new InvalidPolygonError(loc, `expected ellipse points [x1, y1, x2, y2], got ${describeJson(raw)}`);
  const [x1, y1, x2, y2] = v as [number, number, number, number];
  if (!(x2 > x1 && y2 > y1))
    throw new InvalidPolygonError(loc, `expected an ellipse with x2 > x1 and y2 > y1, got ${describeJson(raw)}`);
  const [cx, cy, rx, ry] = [(x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2, (y2 - y1) / 2];
  const a = (rotationDeg * Math.PI) / 180;
  const [cosA, sinA] = [Math.cos(a), Math.sin(a)];
  const xy: number[] = [];
  for (let i = 0; i < ELLIPSE_POINTS; i++) {
    const t = (2 * Math.PI * i) / ELLIPSE_POINTS;
    const [ex, ey] = [rx * Math.cos(t), ry * Math.sin(t)];
    xy.push(cx + ex * cosA - ey * sinA, cy + ex * sinA + ey * cosA);
  }
  return xy;
}

/** Converts `[x, y, w, h]` (numbers or numeric strings) to XYXY; malformed input throws InvalidBoxError. */
export function xywhToXyxy(raw: unknown, loc: DatasetErrorLocation): [number, number, number, number] {
  if (!Array.isArray(raw) || raw.length !== 4)
    throw new InvalidBoxError(loc, `expected [x, y, w, h], got ${describeJson(raw)}`);
  const v = raw.map(toNumber);
  if (v.some((n) => n === undefined))
    throw new InvalidBoxError(loc, `expected 4 finite numbers [x, y, w, h], got ${describeJson(raw)}`);
  const [x, y, w, h] = v as [number, number, number, number];
  return [x, y, x + w, y + h];
}

/**
 * Checks a box XYXY against the image: positive width and height, within the image up to
 * `BOX_TOLERANCE_PX` (then clamped). Throws InvalidBoxError otherwise.
 */
export function checkBox(
  box: readonly number[],
  image: { width: number; height: number },
  loc: DatasetErrorLocation,
): BoxXYXY {
  const [x1, y1, x2, y2] = box as [number, number, number, number];
  if (![x1, y1, x2, y2].every(Number.isFinite))
    throw new InvalidBoxError(loc, `expected finite XYXY, got ${describeJson(box)}`);
  if (!(x2 > x1 && y2 > y1)) {
    throw new InvalidBoxError(
      loc,
      `expected positive width and height, got XYXY ${describeJson(box)} (w=${x2 - x1}, h=${y2 - y1})`,
    );
  }
  const t = BOX_TOLERANCE_PX;
  if (x1 < -t || y1 < -t || x2 > image.width + t || y2 > image.height + t) {
    throw new InvalidBoxError(
      loc,
      `expected XYXY ${describeJson(box)} within the image [0, 0, ${image.width}, ${image.height}] (tolerance ${t} px)`,
    );
  }
  const c: [number, number, number, number] = [
    Math.max(0, x1),
    Math.max(0, y1),
    Math.min(image.width, x2),
    Math.min(image.height, y2),
  ];
  return c;
}

function rleValues(part: MaskPart): readonly number[] {
  if (part.kind === 'rle') return part.counts;
  if (part.kind === 'rle-string') return decodeRleString(part.counts);
  return [];
}

/** Box XYXY of the parts (polygon extremes, RLE pixel bounds), clipped to the image; undefined when empty. */
export function partsBox(parts: readonly MaskPart[], image: { width: number; height: number }): BoxXYXY | undefined {
  let b: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  const grow = (o: readonly number[]): void => {
    b = [
      Math.min(b[0], o[0] as number),
      Math.min(b[1], o[1] as number),
      Math.max(b[2], o[2] as number),
      Math.max(b[3], o[3] as number),
    ];
  };
  for (const p of parts) {
    if (p.kind === 'polygon') grow(polygonBounds([p.xy]));
    else {
      const r = rleBounds(rleValues(p), image.height);
      if (r) grow(r);
    }
  }
  const c: [number, number, number, number] = [
    Math.max(0, b[0]),
    Math.max(0, b[1]),
    Math.min(image.width, b[2]),
    Math.min(image.height, b[3]),
  ];
  return c[2] > c[0] && c[3] > c[1] ? c : undefined;
}

/** Decodes the union of the parts into a mask `(H,W)`. */
export function partsMask(parts: readonly MaskPart[], width: number, height: number): BinaryMask {
  const data = new Uint8Array(width * height);
  for (const p of parts) {
    if (p.kind === 'polygon') rasterizePolygon(p.xy, height, width, data);
    else {
      const m = rleToMask(rleValues(p), height, width).data;
      for (let i = 0; i < data.length; i++) if (m[i]) data[i] = 1;
    }
  }
  return { width, height, data };
}

/** The box rasterised as a polygon (pycocotools' `frBbox` rule): the mask of a box-only instance. */
export function boxMask(box: BoxXYXY, width: number, height: number): BinaryMask {
  const [x1, y1, x2, y2] = box;
  return { width, height, data: rasterizePolygon([x1, y1, x1, y2, x2, y2, x2, y1], height, width) };
}
