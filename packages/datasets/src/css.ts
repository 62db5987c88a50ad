/**
 * Common Semantic Segmentation reader (OpenVINO accuracy-checker / Datumaro layout):
 * `dataset_meta.json` + `images/` + `masks/` in the root (subset `default`) or in `<subset>/` folders.
 * `dataset_meta.json`: `label_map` {"<id>": "<name>"} (or `labels` [names], id = position),
 * `segmentation_colors` [[r,g,b], …] where colour i encodes class id i (masks without it hold class
 * ids as gray/palette values), `background_label` (default: a label named "background", if any).
 * samtune extension: `ignore_label` / `ignore_labels` ids; value 255, when undeclared, is ignored too.
 * Each class region becomes instances by 8-connected components; background and ignore ids are not
 * instances.
 */
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { stemOf, type AdapterResult, type DatasetAdapter } from './adapter.js';
import { IMAGE_EXTENSIONS, isDir, isFile, listDir, listFilesRecursive, type DatasetLoadContext } from './context.js';
import { DatasetError, MalformedAnnotationError, MissingImageError } from './errors.js';
import { jsonFailure, jsonKind, parseJsonText } from './json-text.js';
import type { DatasetInstance, DatasetItem, DatasetLabel } from './model.js';
import { readIndexMap, semanticInstances, type MaskColorRule, type SemanticRule } from './semantic.js';
import { toNumber } from './shapes.js';

const READER = 'loadCss';
const META = 'dataset_meta.json';

/** A parsed `dataset_meta.json`. */
export interface CssMeta {
  readonly labels: readonly DatasetLabel[];
  readonly rule: SemanticRule & MaskColorRule;
}

/** Parses `dataset_meta.json` text; throws MalformedAnnotationError (scope `file`). */
export function parseCssMeta(text: string, file: string, subset?: string): CssMeta {
  const loc = { reader: READER, file, subset };
  let doc: unknown;
  try {
    doc = parseJsonText(text);
  } catch (err) {
    throw new MalformedAnnotationError(loc, jsonFailure(err), 'file');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new MalformedAnnotationError(loc, `expected a JSON object, got ${jsonKind(doc)}`, 'file');
  const meta = doc as Record<string, unknown>;
  const all: DatasetLabel[] = [];
  if (typeof meta.label_map === 'object' && meta.label_map !== null && !Array.isArray(meta.label_map)) {
    for (const [k, v] of Object.entries(meta.label_map)) {
      const id = toNumber(k);
      if (id === undefined || !Number.isInteger(id) || id < 0 || typeof v !== 'string') {
        throw new MalformedAnnotationError(
          loc,
          `expected label_map entries "<integer id>": "<name>", got ${JSON.stringify(k)}: ${JSON.stringify(v)}`,
          'file',
        );
      }
      all.push({ id, name: v });
    }
  } else if (Array.isArray(meta.labels) && meta.labels.every((l) => typeof l === 'string')) {
    meta.labels.forEach((name: string, id) => all.push({ id, name }));
  } else throw new MalformedAnnotationError(loc, "expected 'label_map' (object) or 'labels' (array of names)", 'file');
  let colors: Map<number, number> | undefined;
  if (meta.segmentation_colors !== undefined) {
    const sc = meta.segmentation_colors;
    if (
      !Array.isArray(sc) ||
      !sc.every((c) => Array.isArray(c) && c.length === 3 && c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255))
    ) {
      throw new MalformedAnnotationError(
        loc,
        "expected 'segmentation_colors' as [[r,g,b], ...] with integers 0..255",
        'file',
      );
    }
    colors = new Map();
    sc.forEach((c: number[], i) => {
      const key = ((c[0] as number) << 16) | ((c[1] as number) << 8) | (c[2] as number);
      if (!colors?.has(key)) colors?.set(key, i);
    });
  }
  const bgRaw = meta.background_label;
  const bg = bgRaw !== undefined ? toNumber(bgRaw) : all.find((l) => l.name.toLowerCase() === 'background')?.id;
  const ignoreRaw = meta.ignore_labels ?? (meta.ignore_label !== undefined ? [meta.ignore_label] : []);
  const ignore = new Set<number>(
    Array.isArray(ignoreRaw) ? ignoreRaw.map(toNumber).filter((n): n is number => n !== undefined) : [],
  );
  const byId = new Map(all.map((l) => [l.id, l]));
  if (!byId.has(255)) ignore.add(255);
  const nonInstance = (i: number): boolean => i === bg || ignore.has(i);
  const labels = all.filter((l) => !nonInstance(l.id)).sort((a, b) => a.id - b.id);
  return {
    labels,
    rule: {
      colors,
      paletteAsIndex: false,
      isInstanceIndex: (i) => !nonInstance(i),
      labelOf: (i) => (nonInstance(i) ? undefined : byId.get(i)),
      known: labels.map((l) => l.id),
    },
  };
}

async function findSources(root: string): Promise<{ subset: string; dir: string }[]> {
  const ok = async (dir: string): Promise<boolean> =>
    (await isFile(join(dir, META))) && (await isDir(join(dir, 'masks')));
  if (await ok(root)) return [{ subset: 'default', dir: root }];
  const out: { subset: string; dir: string }[] = [];
  for (const name of await listDir(root))
    if (await ok(join(root, name))) out.push({ subset: name, dir: join(root, name) });
  return out;
}

async function findImage(dir: string, id: string): Promise<string | undefined> {
  for (const ext of IMAGE_EXTENSIONS) {
    for (const e of [ext, ext.toUpperCase()]) {
      const p = join(dir, 'images', id + e);
      if (await isFile(p)) return p;
    }
  }
  return undefined;
}

async function loadItem(
  dir: string,
  subset: string,
  maskRel: string,
  meta: CssMeta,
  ctx: DatasetLoadContext,
): Promise<DatasetItem | undefined> {
  const id = stemOf(maskRel);
  const maskPath = join(dir, 'masks', maskRel);
  const loc = { reader: READER, file: maskPath, subset, itemId: id };
  const found = await findImage(dir, id);
  if (!found) {
    ctx.report(
      new MissingImageError(loc, join(dir, 'images', `${id}.{${IMAGE_EXTENSIONS.map((e) => e.slice(1)).join(',')}}`)),
    );
    return undefined;
  }
  const imagePath = await ctx.containedPath([join(dir, 'images')], relative(join(dir, 'images'), found), loc, 'image');
  if (imagePath === undefined) return undefined;
  const size = await ctx.checkImage(imagePath, { ...loc, file: imagePath });
  if (!size) return undefined;
  const instances: DatasetInstance[] = [];
  try {
    const map = await readIndexMap(maskPath, meta.rule, size, loc);
    for (const build of semanticInstances(maskPath, map, meta.rule, loc)) {
      try {
        instances.push(build());
      } catch (err) {
        if (!(err instanceof DatasetError)) throw err;
        ctx.report(err);
      }
    }
  } catch (err) {
    if (!(err instanceof DatasetError)) throw err;
    ctx.report(err);
    return undefined;
  }
  return { id, subset, imagePath, width: size.width, height: size.height, instances };
}

/** The Common Semantic Segmentation adapter (`format: 'css'`). */
export const cssAdapter: DatasetAdapter = {
  name: 'css',
  async detect(root: string): Promise<boolean> {
    return (await findSources(root)).length > 0;
  },
  async load(root: string, ctx: DatasetLoadContext): Promise<AdapterResult> {
    const labels = new Map<number, DatasetLabel>();
    const items: DatasetItem[] = [];
    for (const { subset, dir } of await findSources(root)) {
      let meta: CssMeta;
      try {
        meta = parseCssMeta(await readFile(join(dir, META), 'utf8'), join(dir, META), subset);
      } catch (err) {
        if (!(err instanceof DatasetError)) throw err;
        ctx.report(err);
        continue;
      }
      for (const l of meta.labels) if (!labels.has(l.id)) labels.set(l.id, l);
      const masks = (await listFilesRecursive(join(dir, 'masks'))).filter((f) =>
        IMAGE_EXTENSIONS.some((e) => f.toLowerCase().endsWith(e)),
      );
      const loaded = await ctx.map(masks, (m) => loadItem(dir, subset, m, meta, ctx));
      for (const it of loaded) if (it) items.push(it);
    }
    return { labels: [...labels.values()].sort((a, b) => a.id - b.id), items };
  },
};
