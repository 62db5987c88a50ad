/**
 * COCO instances reader. Layouts:
 * - standard: `annotations/instances_<subset>.json`, images in `images/<subset>/` (or `images/`);
 * - per folder (Roboflow and similar exports): `<subset>/_annotations.coco.json` beside the images,
 *   or `_annotations.coco.json` in the root (subset `default`).
 * Segmentations: polygon lists (united), RLE with a compressed string or uncompressed counts
 * (`iscrowd` kept as a flag); no segmentation -> a box-only instance. `bbox` [x,y,w,h] becomes XYXY;
 * when absent, the box is the segmentation's extent. Numbers written as strings are accepted.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stemOf, type AdapterResult, type DatasetAdapter } from './adapter.js';
import { isDir, isFile, listDir, type DatasetLoadContext } from './context.js';
import {
  DatasetError,
  DuplicateIdError,
  InvalidBoxError,
  InvalidPolygonError,
  MalformedAnnotationError,
  UnknownCategoryError,
  type DatasetErrorLocation,
} from './errors.js';
import { describeJson, jsonFailure, jsonKind, parseJsonText } from './json-text.js';
import type { BoxXYXY, DatasetInstance, DatasetItem, DatasetLabel, InstanceAttributes } from './model.js';
import {
  boxMask,
  checkBox,
  parsePolygon,
  parseRle,
  partsBox,
  partsMask,
  toNumber,
  xywhToXyxy,
  type MaskPart,
} from './shapes.js';

const READER = 'loadCoco';
const ROBOFLOW_FILE = '_annotations.coco.json';

interface CocoSource {
  readonly subset: string;
  readonly file: string;
  readonly imageDirs: readonly string[];
}

async function findSources(root: string): Promise<CocoSource[]> {
  const out: CocoSource[] = [];
  for (const name of await listDir(join(root, 'annotations'))) {
    const m = /^instances_(.+)\.json$/.exec(name);
    if (m?.[1])
      out.push({
        subset: m[1],
        file: join(root, 'annotations', name),
        imageDirs: [join(root, 'images', m[1]), join(root, 'images')],
      });
  }
  if (await isFile(join(root, ROBOFLOW_FILE)))
    out.push({ subset: 'default', file: join(root, ROBOFLOW_FILE), imageDirs: [root] });
  for (const name of await listDir(root)) {
    const dir = join(root, name);
    if (name !== 'annotations' && (await isDir(dir)) && (await isFile(join(dir, ROBOFLOW_FILE)))) {
      out.push({ subset: name, file: join(dir, ROBOFLOW_FILE), imageDirs: [dir] });
    }
  }
  return out;
}

function scalarAttributes(raw: unknown): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    for (const [k, v] of Object.entries(raw))
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

interface CocoImage {
  readonly id: number | string;
  readonly fileName: string;
  readonly width: number;
  readonly height: number;
  readonly anns: Json[];
}

/** Builds one instance; throws a DatasetError for bad input. */
function buildInstance(
  ann: Json,
  annId: string,
  img: CocoImage,
  labels: ReadonlyMap<number, DatasetLabel>,
  loc: DatasetErrorLocation,
): DatasetInstance {
  const catId = toNumber(ann.category_id);
  const label = catId === undefined ? undefined : labels.get(catId);
  if (!label) throw new UnknownCategoryError(loc, ann.category_id as string | number, [...labels.keys()]);
  const size = { width: img.width, height: img.height };
  const seg = ann.segmentation;
  const parts: MaskPart[] = [];
  if (Array.isArray(seg)) for (const poly of seg) parts.push({ kind: 'polygon', xy: parsePolygon(poly, loc) });
  else if (isObj(seg)) parts.push(parseRle(seg, size, loc));
  else if (seg !== undefined && seg !== null)
    throw new InvalidPolygonError(loc, `expected a list of polygons or an RLE object, got ${jsonKind(seg)}`);
  let box: BoxXYXY | undefined;
  if (ann.bbox !== undefined && ann.bbox !== null) box = checkBox(xywhToXyxy(ann.bbox, loc), size, loc);
  else box = partsBox(parts, size);
  if (!box) throw new InvalidBoxError(loc, 'expected a bbox or a non-empty segmentation inside the image, got neither');
  const finalBox = box;
  const attributes: InstanceAttributes = scalarAttributes(ann.attributes);
  return {
    id: annId,
    label,
    box: finalBox,
    iscrowd: toNumber(ann.iscrowd) === 1,
    maskSource: parts.length === 0 ? 'box' : parts[0]?.kind === 'polygon' ? 'polygon' : 'rle',
    attributes,
    mask: () => (parts.length > 0 ? partsMask(parts, img.width, img.height) : boxMask(finalBox, img.width, img.height)),
  };
}

function readCategories(doc: Json, src: CocoSource, labels: Map<number, DatasetLabel>, ctx: DatasetLoadContext): void {
  const cats = doc.categories ?? [];
  const seen = new Set<number>();
  if (!Array.isArray(cats)) {
    ctx.report(
      new MalformedAnnotationError(
        { reader: READER, file: src.file, subset: src.subset },
        `expected 'categories' to be an array, got ${jsonKind(cats)}`,
        'file',
      ),
    );
    return;
  }
  cats.forEach((c: unknown, i) => {
    const loc = { reader: READER, file: src.file, subset: src.subset, annotationId: `categories[${i}]` };
    const id = isObj(c) ? toNumber(c.id) : undefined;
    if (!isObj(c) || id === undefined || !Number.isInteger(id) || typeof c.name !== 'string') {
      ctx.report(
        new MalformedAnnotationError(
          loc,
          `expected a category {id: integer, name: string}, got ${describeJson(c)}`,
          'annotation',
        ),
      );
      return;
    }
    if (seen.has(id)) return ctx.report(new DuplicateIdError(loc, 'category', id, 'annotation'));
    seen.add(id);
    const prev = labels.get(id);
    if (prev && prev.name !== c.name) {
      ctx.report(
        new MalformedAnnotationError(
          loc,
          `category id ${id} is named '${c.name}' here but '${prev.name}' in another subset; keeping '${prev.name}'`,
          'annotation',
        ),
      );
    } else if (!prev) labels.set(id, { id, name: c.name });
  });
}

function readImages(doc: Json, src: CocoSource, ctx: DatasetLoadContext): Map<string, CocoImage> {
  const images = new Map<string, CocoImage>();
  const list = doc.images;
  if (!Array.isArray(list)) {
    ctx.report(
      new MalformedAnnotationError(
        { reader: READER, file: src.file, subset: src.subset },
        `expected 'images' to be an array, got ${jsonKind(list)}`,
        'file',
      ),
    );
    return images;
  }
  list.forEach((im: unknown, i) => {
    const id = isObj(im) ? im.id : undefined;
    const loc = {
      reader: READER,
      file: src.file,
      subset: src.subset,
      itemId: typeof id === 'number' || typeof id === 'string' ? String(id) : `images[${i}]`,
    };
    const width = isObj(im) ? toNumber(im.width) : undefined;
    const height = isObj(im) ? toNumber(im.height) : undefined;
    if (
      !isObj(im) ||
      (typeof id !== 'number' && typeof id !== 'string') ||
      typeof im.file_name !== 'string' ||
      !width ||
      !height
    ) {
      ctx.report(
        new MalformedAnnotationError(
          loc,
          `expected an image {id, file_name, width > 0, height > 0}, got ${describeJson(im)}`,
          'item',
        ),
      );
      return;
    }
    if (images.has(String(id))) return ctx.report(new DuplicateIdError(loc, 'image', id, 'item'));
    images.set(String(id), { id, fileName: im.file_name, width, height, anns: [] });
  });
  return images;
}

async function loadSource(
  src: CocoSource,
  labels: Map<number, DatasetLabel>,
  ctx: DatasetLoadContext,
): Promise<DatasetItem[]> {
  const fileLoc = { reader: READER, file: src.file, subset: src.subset };
  let doc: unknown;
  try {
    doc = parseJsonText(await readFile(src.file, 'utf8'));
  } catch (err) {
    ctx.report(new MalformedAnnotationError(fileLoc, jsonFailure(err), 'file'));
    return [];
  }
  if (!isObj(doc)) {
    ctx.report(
      new MalformedAnnotationError(
        fileLoc,
        `expected a JSON object with images, annotations, categories; got ${jsonKind(doc)}`,
        'file',
      ),
    );
    return [];
  }
  readCategories(doc, src, labels, ctx);
  const images = readImages(doc, src, ctx);
  const anns = doc.annotations ?? [];
  if (!Array.isArray(anns))
    ctx.report(
      new MalformedAnnotationError(fileLoc, `expected 'annotations' to be an array, got ${jsonKind(anns)}`, 'file'),
    );
  const annIds = new Set<string>();
  (Array.isArray(anns) ? anns : []).forEach((a: unknown, i) => {
    const annId = isObj(a) && (typeof a.id === 'number' || typeof a.id === 'string') ? String(a.id) : `#${i}`;
    const loc = { ...fileLoc, itemId: isObj(a) ? String(a.image_id) : undefined, annotationId: annId };
    if (!isObj(a))
      return ctx.report(
        new MalformedAnnotationError(loc, `expected an annotation object, got ${describeJson(a)}`, 'annotation'),
      );
    if (annIds.has(annId)) return ctx.report(new DuplicateIdError(loc, 'annotation', annId, 'annotation'));
    annIds.add(annId);
    const img = images.get(String(a.image_id));
    if (!img)
      return ctx.report(
        new MalformedAnnotationError(
          loc,
          `refers to image_id ${describeJson(a.image_id)}, which is not in 'images'`,
          'annotation',
        ),
      );
    img.anns.push(a);
  });
  const entries = [...images.values()];
  const items = await ctx.map(entries, async (img) => {
    const itemId = stemOf(img.fileName);
    const loc = { ...fileLoc, itemId };
    const path = await ctx.containedPath(src.imageDirs, img.fileName, loc, 'file_name');
    if (path === undefined) return undefined;
    const size = await ctx.checkImage(path, loc, { width: img.width, height: img.height });
    if (!size) return undefined;
    const instances: DatasetInstance[] = [];
    for (const ann of img.anns) {
      const annId = typeof ann.id === 'number' || typeof ann.id === 'string' ? String(ann.id) : `#${instances.length}`;
      try {
        instances.push(buildInstance(ann, annId, img, labels, { ...loc, annotationId: annId }));
      } catch (err) {
        if (err instanceof DatasetError) ctx.report(err);
        else throw err;
      }
    }
    const item: DatasetItem = {
      id: itemId,
      subset: src.subset,
      sourceId: img.id,
      imagePath: path,
      width: img.width,
      height: img.height,
      instances,
    };
    return item;
  });
  return items.filter((x): x is DatasetItem => x !== undefined);
}

/** The COCO instances adapter (`format: 'coco'`). */
export const cocoAdapter: DatasetAdapter = {
  name: 'coco',
  async detect(root: string): Promise<boolean> {
    return (await findSources(root)).length > 0;
  },
  async load(root: string, ctx: DatasetLoadContext): Promise<AdapterResult> {
    const labels = new Map<number, DatasetLabel>();
    const items: DatasetItem[] = [];
    for (const src of await findSources(root)) items.push(...(await loadSource(src, labels, ctx)));
    return { labels: [...labels.values()].sort((a, b) => a.id - b.id), items };
  },
};

/**
 * A COCO instances JSON file given directly (`--data-root labels.json`, e.g. `samtune autolabel`'s
 * output or a CVAT / Label Studio export) as an adapter: `file_name`s resolve in `imageDir` (default:
 * the file's folder); the subset is `<subset>` for `instances_<subset>.json`, else `default`.
 */
export function cocoFileAdapter(file: string, imageDir?: string): DatasetAdapter {
  const abs = resolve(file);
  const subset = /^instances_(.+)\.json$/i.exec(abs.split(/[\\/]/).pop() ?? '')?.[1] ?? 'default';
  const src: CocoSource = { subset, file: abs, imageDirs: [resolve(imageDir ?? join(abs, '..'))] };
  return {
    name: 'coco',
    detect: () => true,
    async load(_root: string, ctx: DatasetLoadContext): Promise<AdapterResult> {
      const labels = new Map<number, DatasetLabel>();
      const items = await loadSource(src, labels, ctx);
      return { labels: [...labels.values()].sort((a, b) => a.id - b.id), items };
    },
  };
}
