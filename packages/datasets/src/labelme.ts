/**
 * LabelMe reader (`format: 'labelme'`): one `.json` per image, as LabelMe's `LabelFile` writes it
 * (github.com/wkentaro/labelme, `labelme/_label_file.py`): `{shapes: [{label, points: [[x, y], …],
 * shape_type, group_id, description, flags}], imagePath, imageHeight, imageWidth}`. Layouts: the JSON
 * files in the root (subset `default`) and/or in `<subset>/` folders; `imagePath` is relative to its
 * JSON file (`\` read as `/`) and must stay inside the root; without one, the image beside the JSON
 * with the same stem is used.
 *
 * Shapes become masks like LabelMe's own `labelme2coco.py`: `polygon` as drawn, `rectangle` (two
 * corners) as its four corners, `circle` (centre, a point on the rim) as a polygon of
 * `max(floor(pi / acos(1 - 1/r)), 12)` points; shapes with the same `label` and a non-null
 * `group_id` are one instance; `mask` shapes (LabelMe's AI masks: a base64 PNG of the box `points`)
 * are placed like LabelMe's `shape_to_mask`. `line`, `linestrip`, `point` and `points` shapes have
 * no area: each is reported and skipped. Categories are the label names, sorted, ids from 1.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { stemOf, type AdapterResult, type DatasetAdapter } from './adapter.js';
import type { DatasetLoadContext } from './context.js';
import {
  DatasetError,
  DatasetFormatError,
  InvalidBoxError,
  InvalidPolygonError,
  MalformedAnnotationError,
  type DatasetErrorLocation,
} from './errors.js';
import { annotationFolders, findImage, readHead, resolveImagePath } from './image-files.js';
import { describeJson, jsonFailure, jsonKind, parseJsonText } from './json-text.js';
import type { DatasetInstance, DatasetItem, DatasetLabel, InstanceAttributes } from './model.js';
import { decodePng, readPngHeader } from './png.js';
import { maskToRle } from './rle.js';
import { parsePolygon, partsBox, partsMask, toNumber, type MaskPart } from './shapes.js';

const READER = 'loadLabelMe';
/** JSON files per folder that `detect` looks into. */
const DETECT_TRIES = 8;
type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The polygon `[x0,y0,…]` of a LabelMe circle (centre, rim point), as `labelme2coco.py` makes it. */
export function circlePolygon(cx: number, cy: number, rx: number, ry: number): number[] {
  const r = Math.hypot(rx - cx, ry - cy);
  const n = Math.max(r > 1 ? Math.floor(Math.PI / Math.acos(1 - 1 / r)) : 12, 12);
  const xy: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = ((2 * Math.PI) / n) * i;
    xy.push(cx + r * Math.sin(a), cy + r * Math.cos(a));
  }
  return xy;
}

/**
 * A `mask` shape (LabelMe's AI masks): a base64 PNG of the box `points` [[x1, y1], [x2, y2]]
 * (inclusive pixel corners), placed there like LabelMe's `shape_to_mask`; kept as RLE counts.
 */
async function maskShapePart(
  shape: Json,
  corners: readonly number[],
  size: { width: number; height: number },
  loc: DatasetErrorLocation,
): Promise<MaskPart> {
  const [x1, y1, x2, y2] = corners.map((v) => Math.trunc(v)) as [number, number, number, number];
  const w = x2 - x1 + 1;
  const h = y2 - y1 + 1;
  if (x1 < 0 || y1 < 0 || w < 1 || h < 1 || x2 >= size.width || y2 >= size.height)
    throw new InvalidBoxError(
      loc,
      `expected mask corners inside the image (W,H)=(${size.width},${size.height}), got ${describeJson(corners)}`,
    );
  if (typeof shape.mask !== 'string')
    throw new MalformedAnnotationError(
      loc,
      `expected 'mask' as a base64 PNG, got ${jsonKind(shape.mask)}`,
      'annotation',
    );
  const bytes = Buffer.from(shape.mask, 'base64');
  let png;
  try {
    const header = readPngHeader(bytes);
    if (header.width !== w || header.height !== h)
      throw new Error(`it is (H,W)=(${header.height},${header.width}), the points span (${h},${w})`);
    png = await decodePng(bytes);
  } catch (err) {
    throw new MalformedAnnotationError(
      loc,
      `'mask' is not a usable PNG: ${err instanceof Error ? err.message : String(err)}`,
      'annotation',
    );
  }
  const data = new Uint8Array(size.width * size.height);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) if (png.data[(y * w + x) * png.channels]) data[(y1 + y) * size.width + x1 + x] = 1;
  return { kind: 'rle', counts: maskToRle({ width: size.width, height: size.height, data }) };
}

/** A shape as a mask part; throws a DatasetError for shapes without area or bad points. */
async function shapePart(
  shape: Json,
  size: { width: number; height: number },
  loc: DatasetErrorLocation,
): Promise<MaskPart> {
  const type = shape.shape_type ?? 'polygon';
  const pts = shape.points;
  if (!Array.isArray(pts) || !pts.every((p) => Array.isArray(p) && p.length === 2))
    throw new InvalidPolygonError(loc, `expected points [[x, y], …], got ${describeJson(pts)}`);
  if (type === 'polygon') return { kind: 'polygon', xy: parsePolygon(pts.flat(), loc) };
  if (type !== 'rectangle' && type !== 'circle' && type !== 'mask')
    throw new MalformedAnnotationError(
      loc,
      `shape_type ${describeJson(type)} has no area; only polygon, rectangle, circle and mask shapes become masks`,
      'annotation',
    );
  const v = pts.flat().map(toNumber);
  if (v.length !== 4 || v.some((n) => n === undefined))
    throw new InvalidPolygonError(loc, `expected 2 points of finite numbers for a ${type}, got ${describeJson(pts)}`);
  if (type === 'mask') return maskShapePart(shape, v as number[], size, loc);
  const [x1, y1, x2, y2] = v as [number, number, number, number];
  if (type === 'circle') return { kind: 'polygon', xy: circlePolygon(x1, y1, x2, y2) };
  return {
    kind: 'polygon',
    xy: [
      Math.min(x1, x2),
      Math.min(y1, y2),
      Math.max(x1, x2),
      Math.min(y1, y2),
      Math.max(x1, x2),
      Math.max(y1, y2),
      Math.min(x1, x2),
      Math.max(y1, y2),
    ],
  };
}

interface ParsedFile {
  readonly subset: string;
  readonly file: string;
  readonly id: string;
  readonly imagePath: string;
  readonly width: number;
  readonly height: number;
  /** Instances before the label ids are known: label name, parts, attributes. */
  readonly groups: { id: string; label: string; parts: MaskPart[]; attributes: InstanceAttributes }[];
}

async function parseFile(
  root: string,
  subset: string,
  file: string,
  id: string,
  ctx: DatasetLoadContext,
): Promise<ParsedFile | undefined> {
  const fileLoc = { reader: READER, file, subset, itemId: id };
  let doc: unknown;
  try {
    doc = parseJsonText(await readFile(file, 'utf8'));
  } catch (err) {
    ctx.report(new MalformedAnnotationError(fileLoc, jsonFailure(err), 'item'));
    return undefined;
  }
  if (!isObj(doc) || !Array.isArray(doc.shapes)) {
    const got = isObj(doc) ? `'shapes' as ${jsonKind(doc.shapes)}` : jsonKind(doc);
    ctx.report(
      new MalformedAnnotationError(fileLoc, `expected a LabelMe object with a 'shapes' array, got ${got}`, 'item'),
    );
    return undefined;
  }
  let imagePath: string | undefined;
  if (typeof doc.imagePath === 'string' && doc.imagePath !== '')
    imagePath = resolveImagePath(ctx, root, dirname(file), doc.imagePath, fileLoc);
  else imagePath = await findImage(dirname(file), stemOf(basename(file)));
  if (!imagePath) {
    if (typeof doc.imagePath !== 'string' || doc.imagePath === '')
      ctx.report(
        new MalformedAnnotationError(
          fileLoc,
          `expected 'imagePath' or an image named like the JSON file beside it, found neither`,
          'item',
        ),
      );
    return undefined;
  }
  const declaredW = toNumber(doc.imageWidth);
  const declaredH = toNumber(doc.imageHeight);
  const declared = declaredW && declaredH ? { width: declaredW, height: declaredH } : undefined;
  const size = await ctx.checkImage(imagePath, fileLoc, declared);
  if (!size) return undefined;
  const groups = new Map<string, ParsedFile['groups'][number]>();
  for (const [i, shape] of (doc.shapes as unknown[]).entries()) {
    const loc = { ...fileLoc, annotationId: `shapes[${i}]` };
    try {
      if (!isObj(shape))
        throw new MalformedAnnotationError(loc, `expected a shape object, got ${jsonKind(shape)}`, 'annotation');
      if (typeof shape.label !== 'string' || shape.label === '')
        throw new MalformedAnnotationError(
          loc,
          `expected a non-empty 'label', got ${describeJson(shape.label)}`,
          'annotation',
        );
      const part = await shapePart(shape, size, loc);
      const group = shape.group_id === null || shape.group_id === undefined ? undefined : String(shape.group_id);
      const key = group === undefined ? `#${i}` : `${shape.label}\u0000${group}`;
      const entry = groups.get(key) ?? {
        id: `shape${i}`,
        label: shape.label,
        parts: [],
        attributes: attributesOf(shape, group),
      };
      entry.parts.push(part);
      groups.set(key, entry);
    } catch (err) {
      if (err instanceof DatasetError) ctx.report(err);
      else throw err;
    }
  }
  const kept = [...groups.values()].filter((g) => {
    if (partsBox(g.parts, size)) return true;
    ctx.report(
      new InvalidBoxError(
        { ...fileLoc, annotationId: g.id },
        'expected a shape inside the image, got none with area there',
      ),
    );
    return false;
  });
  return { subset, file, id, imagePath, width: size.width, height: size.height, groups: kept };
}

function attributesOf(shape: Json, group: string | undefined): InstanceAttributes {
  const out: Record<string, string | number | boolean> = {};
  if (isObj(shape.flags)) for (const [k, v] of Object.entries(shape.flags)) if (typeof v === 'boolean') out[k] = v;
  if (typeof shape.description === 'string' && shape.description !== '') out.description = shape.description;
  if (group !== undefined) out.group_id = group;
  return out;
}

/** True for a LabelMe JSON file (a cheap look at its head). */
async function isLabelMeFile(dir: string, name: string): Promise<boolean> {
  if (!name.toLowerCase().endsWith('.json')) return false;
  const head = await readHead(join(dir, name));
  return /"shapes"\s*:\s*\[/.test(head) && /"(version|flags|imagePath|imageHeight)"\s*:/.test(head);
}

/** The LabelMe adapter (`format: 'labelme'`). */
export const labelMeAdapter: DatasetAdapter = {
  name: 'labelme',
  async detect(root: string): Promise<boolean> {
    // look at the first few JSON files of each folder only (a folder of 11k SA-1B files stays cheap)
    const tries = new Map<string, number>();
    const accept = async (dir: string, name: string): Promise<boolean> => {
      const n = tries.get(dir) ?? 0;
      if (n >= DETECT_TRIES || !name.toLowerCase().endsWith('.json')) return false;
      tries.set(dir, n + 1);
      return isLabelMeFile(dir, name);
    };
    return (await annotationFolders(root, accept, 1)).length > 0;
  },
  async load(root: string, ctx: DatasetLoadContext): Promise<AdapterResult> {
    const folders = await annotationFolders(root, isLabelMeFile);
    if (folders.length === 0)
      throw new DatasetFormatError(
        `loadLabelMe(root): expected LabelMe .json files (with 'shapes') in '${root}' or its sub-folders, found none`,
      );
    const jobs = folders.flatMap(({ subset, dir, files }) =>
      files.map((f) => ({ subset, file: join(dir, f), id: stemOf(f) })),
    );
    const parsed = (await ctx.map(jobs, (j) => parseFile(root, j.subset, j.file, j.id, ctx))).filter(
      (p): p is ParsedFile => p !== undefined,
    );
    const names = [...new Set(parsed.flatMap((p) => p.groups.map((g) => g.label)))].sort();
    const labels = new Map<string, DatasetLabel>(names.map((name, i) => [name, { id: i + 1, name }]));
    const items = parsed.map((p): DatasetItem => {
      const instances = p.groups.map((g): DatasetInstance => {
        const box = partsBox(g.parts, p)!;
        return {
          id: g.id,
          label: labels.get(g.label)!,
          box,
          iscrowd: false,
          maskSource: g.parts.every((x) => x.kind === 'polygon')
            ? 'polygon'
            : g.parts.every((x) => x.kind !== 'polygon')
              ? 'rle'
              : 'mixed',
          attributes: g.attributes,
          mask: () => partsMask(g.parts, p.width, p.height),
        };
      });
      return { id: p.id, subset: p.subset, imagePath: p.imagePath, width: p.width, height: p.height, instances };
    });
    return { labels: [...labels.values()], items };
  },
};
