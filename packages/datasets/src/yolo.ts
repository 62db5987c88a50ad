/**
 * YOLO segmentation reader (`format: 'yolo'`), the Ultralytics layout
 * (docs.ultralytics.com/datasets/segment/): a `data.yaml` (or another `.yaml` with `names` and
 * `train`/`val`) in the root; `train`, `val`, `test` each an image folder, a list of folders, or a
 * `.txt` list of images; `path` (optional) is the base those are relative to. Roboflow's exports
 * write `../train/images`: like Ultralytics, a `../` path that does not exist is tried without it.
 * Every folder and image must stay inside the root (`allowImagesOutsideRoot` lifts that); other keys
 * (Ultralytics' `download`, which may hold a script) are ignored, never run.
 *
 * Labels: `images/…/x.jpg` -> `labels/…/x.txt` (the last `images` folder becomes `labels`), one
 * object a line: `class x1 y1 x2 y2 … xn yn` (a polygon, n >= 3) or `class cx cy w h` (a box-only
 * instance), coordinates normalised to [0, 1] by the image width and height. An image without a
 * label file has no objects. `names` (a list, or a map `{index: name}`) gives the categories; the
 * category id is the class index.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { stemOf, type AdapterResult, type DatasetAdapter } from './adapter.js';
import { IMAGE_EXTENSIONS, isDir, isFile, listDir, listFilesRecursive, type DatasetLoadContext } from './context.js';
import {
  DatasetError,
  DatasetFormatError,
  InvalidPolygonError,
  MalformedAnnotationError,
  UnknownCategoryError,
  type DatasetErrorLocation,
} from './errors.js';
import { isInside, readHead, resolveImagePath } from './image-files.js';
import { jsonFailure } from './json-text.js';
import type { DatasetInstance, DatasetItem, DatasetLabel } from './model.js';
import { boxMask, checkBox, partsBox, partsMask, type MaskPart } from './shapes.js';

const READER = 'loadYolo';
const SPLITS = ['train', 'val', 'test'] as const;
/** How far (normalised) a coordinate may leave [0, 1] before it is an error (it is clamped by the box check). */
const COORD_TOLERANCE = 0.01;

/** The dataset YAML in `root`: `data.yaml` first, else the first `.yaml`/`.yml` naming `names` and a split. */
async function findYaml(root: string): Promise<string | undefined> {
  const names = (await listDir(root)).filter((n) => /\.ya?ml$/i.test(n));
  names.sort((a, b) => Number(b === 'data.yaml') - Number(a === 'data.yaml'));
  for (const n of names) {
    const head = await readHead(join(root, n));
    if (/^names\s*:/m.test(head) && /^(train|val)\s*:/m.test(head)) return join(root, n);
  }
  return undefined;
}

/** Category list from `names` (list or map); throws MalformedAnnotationError (file scope). */
function readNames(raw: unknown, loc: DatasetErrorLocation): DatasetLabel[] {
  const entries: [unknown, unknown][] = Array.isArray(raw)
    ? raw.map((n, i) => [i, n])
    : typeof raw === 'object' && raw !== null
      ? Object.entries(raw)
      : [];
  const labels = entries.map(([k, v]) => ({ id: Number(k), name: typeof v === 'string' ? v : String(v) }));
  if (labels.length === 0 || labels.some((l) => !Number.isInteger(l.id) || l.id < 0))
    throw new MalformedAnnotationError(
      loc,
      `expected 'names' as a list of class names or a map {index: name}, got ${JSON.stringify(raw)?.slice(0, 120)}`,
      'file',
    );
  return labels;
}

/** Ultralytics' `img2label_paths`: the last `/images/` becomes `/labels/`, the extension `.txt`. */
export function yoloLabelPath(imagePath: string): string {
  const marker = `${sep}images${sep}`;
  const i = imagePath.lastIndexOf(marker);
  const swapped = i < 0 ? imagePath : `${imagePath.slice(0, i)}${sep}labels${sep}${imagePath.slice(i + marker.length)}`;
  const dot = swapped.lastIndexOf('.');
  return `${dot > swapped.lastIndexOf(sep) ? swapped.slice(0, dot) : swapped}.txt`;
}

/** An image of a split and its item id (path in its folder, or in the root for `.txt` lists, without extension). */
interface SplitImage {
  readonly path: string;
  readonly id: string;
}

/** Image files of one split entry (folder or `.txt` list), inside the root unless allowed. */
async function splitImages(
  root: string,
  base: string,
  entry: string,
  ctx: DatasetLoadContext,
  loc: DatasetErrorLocation,
): Promise<SplitImage[]> {
  const norm = entry.replace(/\\/g, '/');
  const exists = async (p: string): Promise<boolean> => (await isDir(p)) || (await isFile(p));
  // Roboflow writes '../train/images' beside data.yaml; Ultralytics retries such a path without '../'
  const chosen = norm.startsWith('../') && !(await exists(resolve(base, norm))) ? norm.slice(3) : norm;
  const path = resolveImagePath(ctx, root, base, chosen, loc);
  if (!path) return [];
  if (await isDir(path))
    return (await listFilesRecursive(path))
      .filter((f) => IMAGE_EXTENSIONS.some((e) => f.toLowerCase().endsWith(e)))
      .map((f) => ({ path: join(path, f), id: stemOf(f) }));
  if (await isFile(path)) {
    const out: SplitImage[] = [];
    for (const l of (await readFile(path, 'utf8')).split(/\r?\n/).map((x) => x.trim())) {
      const p = l === '' ? undefined : resolveImagePath(ctx, root, dirname(path), l, { ...loc, file: path });
      if (p) out.push({ path: p, id: stemOf(relative(root, p)) });
    }
    return out;
  }
  ctx.report(
    new MalformedAnnotationError(loc, `'${entry}' is neither a folder nor a .txt list (looked at '${path}')`, 'file'),
  );
  return [];
}

/** One label line as a shape part; throws a DatasetError. */
function parseLine(
  fields: readonly string[],
  size: { width: number; height: number },
  labels: ReadonlyMap<number, DatasetLabel>,
  loc: DatasetErrorLocation,
): { label: DatasetLabel; part?: MaskPart; box?: [number, number, number, number] } {
  const cls = Number(fields[0]);
  const label = Number.isInteger(cls) ? labels.get(cls) : undefined;
  if (!label) throw new UnknownCategoryError(loc, Number.isInteger(cls) ? cls : (fields[0] ?? ''), [...labels.keys()]);
  const v = fields.slice(1).map(Number);
  if (v.length !== 4 && (v.length < 6 || v.length % 2 !== 0))
    throw new MalformedAnnotationError(
      loc,
      `expected 'class x1 y1 … xn yn' (n >= 3) or 'class cx cy w h', got ${fields.length} values`,
      'annotation',
    );
  const bad = v.findIndex((n) => !Number.isFinite(n) || n < -COORD_TOLERANCE || n > 1 + COORD_TOLERANCE);
  if (bad >= 0)
    throw new InvalidPolygonError(
      loc,
      `expected coordinates normalised to [0, 1], got '${fields[bad + 1]}' at value ${bad + 1}`,
    );
  if (v.length === 4) {
    const [cx, cy, w, h] = v as [number, number, number, number];
    const box: [number, number, number, number] = [
      (cx - w / 2) * size.width,
      (cy - h / 2) * size.height,
      (cx + w / 2) * size.width,
      (cy + h / 2) * size.height,
    ];
    return { label, box };
  }
  return { label, part: { kind: 'polygon', xy: v.map((n, i) => n * (i % 2 === 0 ? size.width : size.height)) } };
}

async function loadImage(
  subset: string,
  { path: imagePath, id }: SplitImage,
  labels: ReadonlyMap<number, DatasetLabel>,
  ctx: DatasetLoadContext,
): Promise<DatasetItem | undefined> {
  const labelFile = yoloLabelPath(imagePath);
  const loc = { reader: READER, file: labelFile, subset, itemId: id };
  const size = await ctx.checkImage(imagePath, loc);
  if (!size) return undefined;
  let text = '';
  try {
    if (await isFile(labelFile)) text = await readFile(labelFile, 'utf8');
  } catch (err) {
    ctx.report(new MalformedAnnotationError(loc, jsonFailure(err), 'item'));
    return undefined;
  }
  const instances: DatasetInstance[] = [];
  text.split(/\r?\n/).forEach((line, n) => {
    const fields = line.trim().split(/\s+/);
    if (fields[0] === '') return;
    const annLoc = { ...loc, annotationId: `line ${n + 1}` };
    try {
      const { label, part, box } = parseLine(fields, size, labels, annLoc);
      const b = checkBox(box ?? partsBox(part ? [part] : [], size) ?? [0, 0, 0, 0], size, annLoc);
      instances.push({
        id: `line${n + 1}`,
        label,
        box: b,
        iscrowd: false,
        maskSource: part ? 'polygon' : 'box',
        attributes: {},
        mask: () => (part ? partsMask([part], size.width, size.height) : boxMask(b, size.width, size.height)),
      });
    } catch (err) {
      if (err instanceof DatasetError) ctx.report(err);
      else throw err;
    }
  });
  return { id, subset, imagePath, width: size.width, height: size.height, instances };
}

/** The YOLO (Ultralytics) adapter (`format: 'yolo'`). */
export const yoloAdapter: DatasetAdapter = {
  name: 'yolo',
  async detect(root: string): Promise<boolean> {
    return (await findYaml(root)) !== undefined;
  },
  async load(root: string, ctx: DatasetLoadContext): Promise<AdapterResult> {
    const file = await findYaml(root);
    if (!file)
      throw new DatasetFormatError(
        `loadYolo(root): expected a data.yaml (or a .yaml with 'names' and 'train'/'val') in '${root}', found none`,
      );
    const loc = { reader: READER, file };
    let doc: Record<string, unknown>;
    try {
      const parsed = parseYaml(await readFile(file, 'utf8')) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error(`expected a mapping, got ${Array.isArray(parsed) ? 'a list' : typeof parsed}`);
      doc = parsed as Record<string, unknown>;
    } catch (err) {
      throw new MalformedAnnotationError(
        loc,
        `cannot read the dataset YAML (${err instanceof Error ? err.message : String(err)})`,
        'file',
      );
    }
    const labels = readNames(doc.names, loc);
    const byId = new Map(labels.map((l) => [l.id, l]));
    const declaredBase = typeof doc.path === 'string' ? resolve(root, doc.path.replace(/\\/g, '/')) : root;
    const base = isInside(root, declaredBase) && (await isDir(declaredBase)) ? declaredBase : root;
    const items: DatasetItem[] = [];
    for (const split of SPLITS) {
      const raw = doc[split];
      if (raw === undefined || raw === null || raw === '') continue;
      const entries = Array.isArray(raw) ? raw : [raw];
      const images: SplitImage[] = [];
      for (const e of entries) {
        if (typeof e !== 'string') {
          ctx.report(
            new MalformedAnnotationError(
              { ...loc, subset: split },
              `expected '${split}' to be a folder path or a list of them, got ${JSON.stringify(e)}`,
              'file',
            ),
          );
          continue;
        }
        images.push(...(await splitImages(root, base, e, ctx, { ...loc, subset: split })));
      }
      const loaded = await ctx.map(images, (im) => loadImage(split, im, byId, ctx));
      items.push(...loaded.filter((x): x is DatasetItem => x !== undefined));
    }
    return { labels, items };
  },
};
