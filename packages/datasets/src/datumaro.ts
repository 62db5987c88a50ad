/**
 * Datumaro reader: `annotations/<subset>.json` with `categories.label.labels` (label id = position)
 * and `items` (`id`, `image: {path, size: [h, w]}` or `media: {path}`, `annotations`). Images are
 * looked up in `images/<subset>/<path>`, then `images/<path>` (the legacy layout); default
 * `<id>.jpg`. Annotation types:
 * - `polygon` (`points` flat XY), `mask` (`rle` {counts, size}), `bbox` ([x,y,w,h]) -> instances;
 *   shapes of one label sharing a non-zero `group` are one instance (masks united, box from the
 *   group's `bbox` if any, else the shapes' extent); a `bbox` with no shape is a box-only instance;
 * - `points` -> keypoints of the instance in the same non-zero group (ungrouped points are ignored);
 * - `label`, `caption`, `polyline`, `ellipse`, `cuboid_3d`, … are not instances and are ignored.
 */
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdapterResult, DatasetAdapter } from './adapter.js';
import { isFile, listDir, type DatasetLoadContext } from './context.js';
import { DatasetError, MalformedAnnotationError, UnknownCategoryError, type DatasetErrorLocation } from './errors.js';
import { describeJson, jsonFailure, jsonKind, parseJsonText } from './json-text.js';
import type { BoxXYXY, DatasetInstance, DatasetItem, DatasetLabel } from './model.js';
import { boxMask, checkBox, parsePolygon, parseRle, partsBox, partsMask, xywhToXyxy, type MaskPart } from './shapes.js';

const READER = 'loadDatumaro';
const COCO_FILE = /^(instances|person_keypoints|captions|labels|panoptic|image_info|stuff)_.+\.json$/;

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Group {
  readonly key: string;
  readonly id: string;
  readonly label: DatasetLabel;
  readonly parts: MaskPart[];
  box: BoxXYXY | undefined;
  readonly points: [number, number][];
  readonly attributes: Record<string, string | number | boolean>;
}

function attrs(raw: unknown): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  if (isObj(raw))
    for (const [k, v] of Object.entries(raw))
      if (['string', 'number', 'boolean'].includes(typeof v)) out[k] = v as string | number | boolean;
  return out;
}

/** Groups an item's shape annotations into instances (see module notes). Reports and skips bad ones. */
function buildInstances(
  anns: unknown[],
  size: { width: number; height: number },
  labels: readonly DatasetLabel[],
  loc: DatasetErrorLocation,
  ctx: DatasetLoadContext,
): DatasetInstance[] {
  const groups = new Map<string, Group>();
  const points: { group: number; xy: [number, number][] }[] = [];
  const usedIds = new Set<string>();
  anns.forEach((a, i) => {
    if (!isObj(a) || !['polygon', 'mask', 'bbox', 'points'].includes(a.type as string)) return;
    const rawId = typeof a.id === 'number' || typeof a.id === 'string' ? String(a.id) : `#${i}`;
    const aloc = { ...loc, annotationId: rawId };
    try {
      const labelId = a.label_id;
      if (labelId === undefined || labelId === null)
        throw new MalformedAnnotationError(
          aloc,
          `expected a label_id on the ${String(a.type)} annotation, got none`,
          'annotation',
        );
      const label = typeof labelId === 'number' ? labels[labelId] : undefined;
      if (!label)
        throw new UnknownCategoryError(
          aloc,
          labelId as number,
          labels.map((l) => l.id),
        );
      const group = typeof a.group === 'number' ? a.group : 0;
      if (a.type === 'points') {
        const xy = parsePolygonLike(a.points, aloc);
        points.push({ group, xy });
        return;
      }
      let part: MaskPart | undefined;
      let box: BoxXYXY | undefined;
      if (a.type === 'polygon') part = { kind: 'polygon', xy: parsePolygon(a.points, aloc) };
      else if (a.type === 'mask') part = parseRle(a.rle, size, aloc);
      else box = checkBox(xywhToXyxy(a.bbox, aloc), size, aloc);
      const key = group !== 0 ? `g${group}:${label.id}` : `a${i}`;
      let g = groups.get(key);
      if (g && box && g.box) g = undefined; // a second bbox in a group: its own instance
      if (!g) {
        const id = usedIds.has(rawId) ? `${rawId}#${i}` : rawId;
        usedIds.add(id);
        g = {
          key: groups.has(key) ? `${key}#${i}` : key,
          id,
          label,
          parts: [],
          box: undefined,
          points: [],
          attributes: attrs(a.attributes),
        };
        groups.set(g.key, g);
      }
      if (part) g.parts.push(part);
      if (box) g.box = box;
    } catch (err) {
      if (!(err instanceof DatasetError)) throw err;
      ctx.report(err);
    }
  });
  for (const p of points) {
    if (p.group === 0) continue;
    const g = [...groups.values()].find((x) => x.key.startsWith(`g${p.group}:`));
    g?.points.push(...p.xy);
  }
  const out: DatasetInstance[] = [];
  for (const g of groups.values()) {
    const box = g.box ?? partsBox(g.parts, size);
    if (!box) {
      ctx.report(
        new MalformedAnnotationError(
          { ...loc, annotationId: g.id },
          'expected a shape with pixels inside the image, got an empty one',
          'annotation',
        ),
      );
      continue;
    }
    const parts = g.parts;
    const kinds = new Set(parts.map((p) => (p.kind === 'polygon' ? 'polygon' : 'rle')));
    out.push({
      id: g.id,
      label: g.label,
      box,
      iscrowd: false,
      maskSource: parts.length === 0 ? 'box' : kinds.size > 1 ? 'mixed' : kinds.has('polygon') ? 'polygon' : 'rle',
      attributes: g.attributes,
      ...(g.points.length > 0 ? { points: g.points } : {}),
      mask: () =>
        parts.length > 0 ? partsMask(parts, size.width, size.height) : boxMask(box, size.width, size.height),
    });
  }
  return out;
}

function parsePolygonLike(raw: unknown, loc: DatasetErrorLocation): [number, number][] {
  if (!Array.isArray(raw) || raw.length % 2 !== 0 || !raw.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new MalformedAnnotationError(
      loc,
      `expected points as a flat array [x0,y0,x1,y1,...] of finite numbers, got ${describeJson(raw)}`,
      'annotation',
    );
  }
  const out: [number, number][] = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i] as number, raw[i + 1] as number]);
  return out;
}

async function loadSubset(
  root: string,
  file: string,
  subset: string,
  labels: DatasetLabel[],
  ctx: DatasetLoadContext,
): Promise<DatasetItem[]> {
  const fileLoc = { reader: READER, file, subset };
  let doc: unknown;
  try {
    doc = parseJsonText(await readFile(file, 'utf8'));
  } catch (err) {
    ctx.report(new MalformedAnnotationError(fileLoc, jsonFailure(err), 'file'));
    return [];
  }
  const cats = isObj(doc) && isObj(doc.categories) && isObj(doc.categories.label) ? doc.categories.label.labels : [];
  if (!isObj(doc) || !Array.isArray(doc.items) || !Array.isArray(cats)) {
    ctx.report(
      new MalformedAnnotationError(
        fileLoc,
        `expected an object with 'items' (array) and 'categories.label.labels' (array), got ${isObj(doc) ? `items: ${jsonKind(doc.items)}` : jsonKind(doc)}`,
        'file',
      ),
    );
    return [];
  }
  cats.forEach((c: unknown, id) => {
    const name = isObj(c) ? c.name : undefined;
    if (typeof name !== 'string') {
      ctx.report(
        new MalformedAnnotationError(
          { ...fileLoc, annotationId: `categories.label.labels[${id}]` },
          `expected {name: string}, got ${describeJson(c)}`,
          'file',
        ),
      );
      return;
    }
    const prev = labels[id];
    if (!prev) labels[id] = { id, name };
    else if (prev.name !== name) {
      ctx.report(
        new MalformedAnnotationError(
          { ...fileLoc, annotationId: `categories.label.labels[${id}]` },
          `label ${id} is '${name}' here but '${prev.name}' in another subset; keeping '${prev.name}'`,
          'annotation',
        ),
      );
    }
  });
  const items = await ctx.map(doc.items as unknown[], async (raw, i): Promise<DatasetItem | undefined> => {
    const id = isObj(raw) && (typeof raw.id === 'string' || typeof raw.id === 'number') ? String(raw.id) : undefined;
    const loc = { ...fileLoc, itemId: id ?? `items[${i}]` };
    if (!isObj(raw) || id === undefined) {
      ctx.report(
        new MalformedAnnotationError(
          loc,
          `expected an item {id, annotations, image}, got ${describeJson(raw)}`,
          'item',
        ),
      );
      return undefined;
    }
    const image = isObj(raw.image) ? raw.image : isObj(raw.media) ? raw.media : {};
    const rel = typeof image.path === 'string' && image.path ? image.path : `${id}.jpg`;
    const path = await ctx.containedPath([join(root, 'images', subset), join(root, 'images')], rel, loc, 'image.path');
    if (path === undefined) return undefined;
    const sz = image.size;
    const declared =
      Array.isArray(sz) && sz.length === 2 && sz.every((v) => typeof v === 'number' && v > 0)
        ? { height: sz[0] as number, width: sz[1] as number }
        : undefined;
    const size = await ctx.checkImage(path, { ...loc, file: path }, declared);
    if (!size) return undefined;
    const anns = Array.isArray(raw.annotations) ? raw.annotations : [];
    const instances = buildInstances(anns, size, labels, loc, ctx);
    return { id, subset, imagePath: path, width: size.width, height: size.height, instances };
  });
  return items.filter((x): x is DatasetItem => x !== undefined);
}

async function annotationFiles(root: string): Promise<string[]> {
  return (await listDir(join(root, 'annotations'))).filter((n) => n.endsWith('.json') && !COCO_FILE.test(n));
}

/** The Datumaro adapter (`format: 'datumaro'`). */
export const datumaroAdapter: DatasetAdapter = {
  name: 'datumaro',
  async detect(root: string): Promise<boolean> {
    for (const name of await annotationFiles(root)) {
      let head = '';
      try {
        const fh = await open(join(root, 'annotations', name), 'r');
        try {
          const { buffer, bytesRead } = await fh.read(Buffer.alloc(65536), 0, 65536, 0);
          head = buffer.subarray(0, bytesRead).toString('utf8');
        } finally {
          await fh.close();
        }
      } catch {
        continue;
      }
      if (/"(items|dm_format_version)"\s*:/.test(head) || /"categories"\s*:\s*\{/.test(head)) return true;
    }
    return false;
  },
  async load(root: string, ctx: DatasetLoadContext): Promise<AdapterResult> {
    const labels: DatasetLabel[] = [];
    const items: DatasetItem[] = [];
    for (const name of await annotationFiles(root)) {
      const file = join(root, 'annotations', name);
      if (!(await isFile(file))) continue;
      items.push(...(await loadSubset(root, file, name.slice(0, -'.json'.length), labels, ctx)));
    }
    return { labels: labels.filter((l) => l !== undefined), items };
  },
};
