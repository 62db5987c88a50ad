/**
 * COCO instances reader. Layouts:
 * - standard: `annotations/instances_<subset>.json`, images in `images/<subset>/` (or `images/`);
 * - official COCO 2017 (and mmdetection): `annotations/instances_val2017.json` beside `val2017/`;
 * - keypoints and stuff folders: `annotations/person_keypoints_<subset>.json` or
 *   `annotations/stuff_<subset>.json` (their polygons/RLEs are instances), read for a subset that has
 *   no `instances_<subset>.json`; COCO panoptic (`panoptic_<subset>.json` + its PNG folder) as a
 *   last resort, one instance per segment (`coco-panoptic.ts`);
 * - per folder (Roboflow and similar exports): `<subset>/_annotations.coco.json` beside the images,
 *   or `_annotations.coco.json` in the root (subset `default`).
 * Segmentations: polygon lists (united), RLE with a compressed string or uncompressed counts
 * (`iscrowd` 0/1 kept as a flag; anything else is a bad annotation); no segmentation -> a box-only instance.
 * Windows file names (`images\\x.jpg`, Label Studio on Windows) are read with `/`. `bbox` [x,y,w,h] becomes XYXY;
 * when absent, the box is the segmentation's extent. Numbers written as strings are accepted.
 */
import { readFile } from 'node:fs/promises';
import { stemOf, type AdapterResult, type DatasetAdapter } from './adapter.js';
import { isDir, isFile, type DatasetLoadContext } from './context.js';
import { fileSource, findSources, missingImageDetail, type CocoSource } from './coco-layout.js';
import { isPanopticDoc, panopticInstances, segmentsDirOf } from './coco-panoptic.js';
import {
  DatasetError,
  DuplicateIdError,
  InvalidBoxError,
  InvalidPolygonError,
  MissingImageError,
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
  parseCrowd,
  parseRle,
  partsBox,
  partsMask,
  toNumber,
  xywhToXyxy,
  type MaskPart,
} from './shapes.js';

const READER = 'loadCoco';

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
  if (ann.category_id === undefined || ann.category_id === null)
    throw new MalformedAnnotationError(
      loc,
      `expected a 'category_id', got ${describeJson(ann.category_id)}`,
      'annotation',
    );
  const catId = toNumber(ann.category_id);
  const label = catId === undefined ? undefined : labels.get(catId);
  if (!label) throw new UnknownCategoryError(loc, ann.category_id as string | number, [...labels.keys()]);
  const iscrowd = parseCrowd(ann.iscrowd, loc);
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
    iscrowd,
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
    // Windows exports (Label Studio) write `images\\x.jpg`: read as `images/x.jpg`, still contained below.
    images.set(String(id), { id, fileName: im.file_name.replace(/\\/g, '/'), width, height, anns: [] });
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
  const panoptic = isPanopticDoc(doc);
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
    if (!(await isFile(path)) && !(await isDir(path))) {
      ctx.report(new MissingImageError(loc, path, missingImageDetail(src.imageDirs)));
      return undefined;
    }
    const size = await ctx.checkImage(path, loc, { width: img.width, height: img.height });
    if (!size) return undefined;
    const instances: DatasetInstance[] = [];
    for (const ann of img.anns) {
      const annId = typeof ann.id === 'number' || typeof ann.id === 'string' ? String(ann.id) : `#${instances.length}`;
      if (panoptic) {
        const aloc = { ...loc, annotationId: annId };
        instances.push(
          ...(await panopticInstances(ann, img, segmentsDirOf(src.file), labels, aloc, (e) => ctx.report(e))),
        );
        continue;
      }
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
  layout:
    'annotations/instances_<subset>.json (or person_keypoints_ / stuff_), or _annotations.coco.json in the root or in <subset>/ folders',
  async detect(root: string): Promise<boolean> {
    return (await findSources(root)).length > 0;
  },
  async load(root: string, ctx: DatasetLoadContext): Promise<AdapterResult> {
    const labels = new Map<number, DatasetLabel>();
    const items: DatasetItem[] = [];
    const sources = await findSources(root);
    for (const src of sources) items.push(...(await loadSource(src, labels, ctx)));
    return { labels: [...labels.values()].sort((a, b) => a.id - b.id), items };
  },
};

/**
 * A COCO instances JSON file given directly (`--data-root labels.json`, e.g. `samtune autolabel`'s
 * output or a CVAT / Label Studio export) as an adapter; where its images are looked for and its
 * subset: `fileSource`.
 */
export function cocoFileAdapter(file: string, imageDir?: string): DatasetAdapter {
  const src = fileSource(file, imageDir);
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
