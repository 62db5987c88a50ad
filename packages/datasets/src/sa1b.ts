/**
 * SA-1B reader (`format: 'sa1b'`), the layout of Meta's Segment Anything 1-Billion release
 * (github.com/facebookresearch/segment-anything, README "Dataset"): `sa_<n>.jpg` beside
 * `sa_<n>.json` = `{image: {image_id, width, height, file_name}, annotations: [{id, segmentation:
 * {size: [h, w], counts}, bbox: [x, y, w, h], area, predicted_iou, stability_score, crop_box,
 * point_coords}]}`, in the root (subset `default`) and/or in sub-folders (one per extracted tar,
 * subset = folder name). `file_name` is relative to its JSON file and must stay inside the root.
 *
 * Masks are COCO RLE; every instance gets the one category `object` (id 1), as SA-1B masks have no
 * class. `point_coords` become the instance's `points`; `predicted_iou` and `stability_score` its
 * attributes. The item's `sourceId` is `image_id`.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { stemOf, type AdapterResult, type DatasetAdapter } from './adapter.js';
import { isFile, type DatasetLoadContext } from './context.js';
import {
  DatasetError,
  DatasetFormatError,
  InvalidBoxError,
  MalformedAnnotationError,
  type DatasetErrorLocation,
} from './errors.js';
import { annotationFolders, resolveImagePath } from './image-files.js';
import { describeJson, jsonFailure, jsonKind, parseJsonText } from './json-text.js';
import type { DatasetInstance, DatasetItem, DatasetLabel } from './model.js';
import { checkBox, parseRle, partsBox, partsMask, toNumber, xywhToXyxy } from './shapes.js';

const READER = 'loadSa1b';
/** The one category of SA-1B masks. */
export const SA1B_LABEL: DatasetLabel = { id: 1, name: 'object' };
const FILE = /^sa_\d+\.json$/i;

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function buildInstance(
  ann: unknown,
  index: number,
  size: { width: number; height: number },
  loc: DatasetErrorLocation,
): DatasetInstance {
  if (!isObj(ann))
    throw new MalformedAnnotationError(loc, `expected an annotation object, got ${jsonKind(ann)}`, 'annotation');
  const part = parseRle(ann.segmentation, size, loc);
  const box =
    ann.bbox === undefined || ann.bbox === null
      ? partsBox([part], size)
      : checkBox(xywhToXyxy(ann.bbox, loc), size, loc);
  if (!box) throw new InvalidBoxError(loc, 'expected a bbox or a non-empty mask, got neither');
  const points = Array.isArray(ann.point_coords)
    ? ann.point_coords.flatMap((p): [number, number][] => {
        const [x, y] = Array.isArray(p) ? p.map(toNumber) : [];
        return x === undefined || y === undefined ? [] : [[x, y]];
      })
    : [];
  const attributes: Record<string, number> = {};
  for (const k of ['predicted_iou', 'stability_score'] as const) {
    const v = toNumber(ann[k]);
    if (v !== undefined) attributes[k] = v;
  }
  return {
    id: typeof ann.id === 'number' || typeof ann.id === 'string' ? String(ann.id) : `#${index}`,
    label: SA1B_LABEL,
    box,
    iscrowd: false,
    maskSource: 'rle',
    attributes,
    ...(points.length > 0 ? { points } : {}),
    mask: () => partsMask([part], size.width, size.height),
  };
}

async function loadFile(
  root: string,
  subset: string,
  dir: string,
  name: string,
  ctx: DatasetLoadContext,
): Promise<DatasetItem | undefined> {
  const file = join(dir, name);
  const id = stemOf(name);
  const loc = { reader: READER, file, subset, itemId: id };
  let doc: unknown;
  try {
    doc = parseJsonText(await readFile(file, 'utf8'));
  } catch (err) {
    ctx.report(new MalformedAnnotationError(loc, jsonFailure(err), 'item'));
    return undefined;
  }
  const image = isObj(doc) ? doc.image : undefined;
  const width = isObj(image) ? toNumber(image.width) : undefined;
  const height = isObj(image) ? toNumber(image.height) : undefined;
  if (!isObj(doc) || !isObj(image) || !width || !height || !Array.isArray(doc.annotations)) {
    ctx.report(
      new MalformedAnnotationError(
        loc,
        `expected {image: {image_id, width > 0, height > 0, file_name}, annotations: [...]}, got ${describeJson(doc, 160)}`,
        'item',
      ),
    );
    return undefined;
  }
  const fileName = typeof image.file_name === 'string' && image.file_name !== '' ? image.file_name : `${id}.jpg`;
  const imagePath = resolveImagePath(ctx, root, dir, fileName, loc);
  if (!imagePath) return undefined;
  const size = await ctx.checkImage(imagePath, loc, { width, height });
  if (!size) return undefined;
  const instances: DatasetInstance[] = [];
  doc.annotations.forEach((ann: unknown, i) => {
    const annId = isObj(ann) && (typeof ann.id === 'number' || typeof ann.id === 'string') ? String(ann.id) : `#${i}`;
    try {
      instances.push(buildInstance(ann, i, size, { ...loc, annotationId: annId }));
    } catch (err) {
      if (err instanceof DatasetError) ctx.report(err);
      else throw err;
    }
  });
  const sourceId =
    typeof image.image_id === 'number' || typeof image.image_id === 'string' ? image.image_id : undefined;
  return {
    id,
    subset,
    ...(sourceId !== undefined ? { sourceId } : {}),
    imagePath,
    width: size.width,
    height: size.height,
    instances,
  };
}

const isSa1bFile = async (dir: string, name: string): Promise<boolean> =>
  FILE.test(basename(name)) && (await isFile(join(dir, name)));

/** The SA-1B adapter (`format: 'sa1b'`). */
export const sa1bAdapter: DatasetAdapter = {
  name: 'sa1b',
  async detect(root: string): Promise<boolean> {
    return (await annotationFolders(root, isSa1bFile, 1)).length > 0;
  },
  async load(root: string, ctx: DatasetLoadContext): Promise<AdapterResult> {
    const folders = await annotationFolders(root, isSa1bFile);
    if (folders.length === 0)
      throw new DatasetFormatError(
        `loadSa1b(root): expected sa_<n>.json files in '${root}' or its sub-folders, found none`,
      );
    const jobs = folders.flatMap(({ subset, dir, files }) => files.map((name) => ({ subset, dir, name })));
    const items = await ctx.map(jobs, (j) => loadFile(root, j.subset, j.dir, j.name, ctx));
    return { labels: [SA1B_LABEL], items: items.filter((x): x is DatasetItem => x !== undefined) };
  },
};
