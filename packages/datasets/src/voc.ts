/**
 * Pascal VOC reader: `ImageSets/{Segmentation,Main}/<subset>.txt`, `JPEGImages/`, `Annotations/*.xml`,
 * `SegmentationObject/*.png` (instance index per pixel), `SegmentationClass/*.png` (class per pixel).
 * Instances of an item, by what it has:
 * - SegmentationObject: one instance per index 1..254 (255 = void, ignored). Label = majority class
 *   of its pixels in SegmentationClass (else the XML object of the same 1-based index); box = tight
 *   mask box. XML object k gives instance k its flags; XML objects without pixels become box-only.
 * - SegmentationClass alone: 8-connected components per class (background and void excluded).
 * - XML alone: one box-only instance per object.
 * XML boxes are VOC's 1-based inclusive pixel indices, converted to XYXY [xmin-1, ymin-1, xmax, ymax].
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdapterResult, DatasetAdapter } from './adapter.js';
import { IMAGE_EXTENSIONS, isDir, isFile, listDir, listFilesRecursive, type DatasetLoadContext } from './context.js';
import {
  DatasetError,
  InvalidBoxError,
  MalformedAnnotationError,
  UnknownCategoryError,
  type DatasetErrorLocation,
} from './errors.js';
import type { DatasetInstance, DatasetItem } from './model.js';
import { checkBox, boxMask, toNumber } from './shapes.js';
import { defaultVocLabels, readVocLabelMap, type VocLabelSet } from './voc-labels.js';
import { readMaskMap, vocInstanceMasks, vocSemanticInstances } from './voc-masks.js';
import type { VocObject } from './voc-object.js';
export type { VocObject } from './voc-object.js';

const READER = 'loadVoc';
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (_name, jpath) => jpath === 'annotation.object' || String(jpath).endsWith('.part'),
});

interface VocXml {
  readonly filename: string | undefined;
  readonly size: { width: number; height: number } | undefined;
  readonly objects: VocObject[];
}

/** `<!ENTITY name SYSTEM|PUBLIC …>` (also parameter entities `% name`): an external entity, refused. */
const EXTERNAL_ENTITY = /<!ENTITY\s+((?:%\s+)?[^\s>]+)\s+(SYSTEM|PUBLIC)\b/i;

function flag(v: unknown): boolean {
  return String(v ?? '0').trim() === '1';
}

function parseXml(text: string, file: string, loc: DatasetErrorLocation, labels: VocLabelSet): VocXml {
  const valid = XMLValidator.validate(text);
  if (valid !== true)
    throw new MalformedAnnotationError(loc, `invalid XML at line ${valid.err.line}: ${valid.err.msg}`, 'item');
  const external = EXTERNAL_ENTITY.exec(text);
  if (external)
    throw new MalformedAnnotationError(
      loc,
      `expected no external entities (they are never fetched), got <!ENTITY ${external[1]} ${external[2]} …>`,
      'item',
    );
  let doc: { annotation?: Record<string, unknown> };
  try {
    doc = parser.parse(text) as { annotation?: Record<string, unknown> };
  } catch (err) {
    throw new MalformedAnnotationError(
      loc,
      `cannot parse XML (${err instanceof Error ? err.message : String(err)})`,
      'item',
    );
  }
  const ann = doc.annotation;
  if (typeof ann !== 'object' || ann === null)
    throw new MalformedAnnotationError(loc, `expected a root <annotation> element in '${file}'`, 'item');
  const sz = ann.size as Record<string, unknown> | undefined;
  const w = toNumber(sz?.width);
  const h = toNumber(sz?.height);
  const objects: VocObject[] = ((ann.object as Record<string, unknown>[] | undefined) ?? []).map((o, i) => {
    const index = i + 1;
    const oloc = { ...loc, annotationId: `object ${index}` };
    const name = typeof o.name === 'string' ? o.name.trim() : '';
    const attributes: Record<string, string | number | boolean> = {
      difficult: flag(o.difficult),
      truncated: flag(o.truncated),
      occluded: flag(o.occluded),
    };
    if (typeof o.pose === 'string') attributes.pose = o.pose;
    let error: DatasetError | undefined;
    let box: [number, number, number, number] | undefined;
    const bb = o.bndbox as Record<string, unknown> | undefined;
    const v = [bb?.xmin, bb?.ymin, bb?.xmax, bb?.ymax].map(toNumber);
    if (!labels.byName.has(name))
      error = new UnknownCategoryError(
        oloc,
        name,
        labels.labels.map((l) => l.name),
      );
    else if (v.some((n) => n === undefined))
      error = new InvalidBoxError(
        oloc,
        `expected <bndbox> with numeric xmin, ymin, xmax, ymax, got ${JSON.stringify(bb ?? null)}`,
      );
    else box = [(v[0] as number) - 1, (v[1] as number) - 1, v[2] as number, v[3] as number];
    return { index, name, box, attributes, error };
  });
  return {
    filename: typeof ann.filename === 'string' ? ann.filename : undefined,
    size: w && h ? { width: w, height: h } : undefined,
    objects,
  };
}

function subsetFromFile(name: string, labels: VocLabelSet): string | undefined {
  if (!name.endsWith('.txt')) return undefined;
  const stem = name.slice(0, -4);
  const us = stem.lastIndexOf('_');
  if (us > 0) {
    const prefix = stem.slice(0, us);
    if (labels.byName.has(prefix) || ['background', 'ignored'].includes(prefix)) return undefined;
  }
  return stem;
}

async function readSubsets(root: string, labels: VocLabelSet): Promise<Map<string, string[]>> {
  const subsets = new Map<string, string[]>();
  for (const task of ['Segmentation', 'Main']) {
    const dir = join(root, 'ImageSets', task);
    for (const name of await listDir(dir)) {
      const subset = subsetFromFile(name, labels);
      if (!subset) continue;
      const ids = subsets.get(subset) ?? [];
      const have = new Set(ids);
      for (const line of (await readFile(join(dir, name), 'utf8')).split(/\r?\n/)) {
        const id = line.trim().split(/\s+/)[0];
        if (id && !id.startsWith('#') && !have.has(id)) {
          have.add(id);
          ids.push(id);
        }
      }
      subsets.set(subset, ids);
    }
  }
  if (subsets.has('trainval') && (subsets.has('train') || subsets.has('val'))) subsets.delete('trainval');
  if (subsets.size === 0) {
    const ids = new Set<string>();
    for (const dir of ['JPEGImages', 'Annotations'])
      for (const f of await listFilesRecursive(join(root, dir))) ids.add(f.replace(/\.[^./]+$/, ''));
    if (ids.size > 0) subsets.set('default', [...ids].sort());
  }
  return subsets;
}

/** The item's image: `<filename>` when it names a file, else `<id>.<ext>`; undefined when reported outside. */
async function imagePathFor(
  root: string,
  id: string,
  xmlName: string | undefined,
  loc: DatasetErrorLocation,
  ctx: DatasetLoadContext,
): Promise<string | undefined> {
  const dir = join(root, 'JPEGImages');
  if (xmlName) {
    const p = await ctx.containedPath([dir], xmlName, loc, '<filename>');
    if (p === undefined || (await isFile(p))) return p;
  }
  for (const ext of IMAGE_EXTENSIONS)
    if (await isFile(join(dir, id + ext))) return ctx.containedPath([dir], id + ext, loc, 'ImageSets id');
  return join(dir, `${id}.jpg`);
}

function boxOnly(
  o: VocObject,
  size: { width: number; height: number },
  loc: DatasetErrorLocation,
  labels: VocLabelSet,
): DatasetInstance {
  if (o.error) throw o.error;
  const box = checkBox(o.box as readonly number[], size, { ...loc, annotationId: `object ${o.index}` });
  return {
    id: `obj${o.index}`,
    label: labels.byName.get(o.name) as DatasetInstance['label'],
    box,
    iscrowd: false,
    maskSource: 'box',
    attributes: o.attributes,
    mask: () => boxMask(box, size.width, size.height),
  };
}

async function loadItem(
  root: string,
  subset: string,
  id: string,
  labels: VocLabelSet,
  ctx: DatasetLoadContext,
): Promise<DatasetItem | undefined> {
  const idLoc = { reader: READER, file: join(root, 'ImageSets'), subset, itemId: id };
  const xmlPath = await ctx.containedPath([join(root, 'Annotations')], `${id}.xml`, idLoc, 'ImageSets id');
  if (xmlPath === undefined) return undefined;
  const loc = { reader: READER, file: xmlPath, subset, itemId: id };
  let xml: VocXml = { filename: undefined, size: undefined, objects: [] };
  if (await isFile(xmlPath)) {
    try {
      xml = parseXml(await readFile(xmlPath, 'utf8'), xmlPath, loc, labels);
    } catch (err) {
      if (!(err instanceof DatasetError)) throw err;
      ctx.report(err);
      return undefined;
    }
  }
  const imagePath = await imagePathFor(root, id, xml.filename, loc, ctx);
  if (imagePath === undefined) return undefined;
  const size = await ctx.checkImage(imagePath, { ...loc, file: imagePath }, xml.size);
  if (!size) return undefined;
  const instances: DatasetInstance[] = [];
  const keep = (inst: () => DatasetInstance): void => {
    try {
      instances.push(inst());
    } catch (err) {
      if (err instanceof DatasetError) ctx.report(err);
      else throw err;
    }
  };
  const objPath = await ctx.containedPath([join(root, 'SegmentationObject')], `${id}.png`, loc, 'mask');
  const clsPath = await ctx.containedPath([join(root, 'SegmentationClass')], `${id}.png`, loc, 'mask');
  if (objPath === undefined || clsPath === undefined) return undefined;
  const hasObj = await isFile(objPath);
  const hasCls = await isFile(clsPath);
  try {
    if (hasObj) {
      const objMap = await readMaskMap(objPath, 'instance', size, { ...loc, file: objPath }, labels);
      const clsMap = hasCls ? await readMaskMap(clsPath, 'class', size, { ...loc, file: clsPath }, labels) : undefined;
      const found = vocInstanceMasks(objPath, objMap, clsMap, xml.objects, labels, { ...loc, file: objPath });
      for (const f of found) keep(f.build);
      const used = new Set(found.map((f) => f.index));
      for (const o of xml.objects) if (!used.has(o.index)) keep(() => boxOnly(o, size, loc, labels));
    } else if (hasCls) {
      const clsMap = await readMaskMap(clsPath, 'class', size, { ...loc, file: clsPath }, labels);
      for (const f of vocSemanticInstances(clsPath, clsMap, labels, { ...loc, file: clsPath })) keep(f);
    } else for (const o of xml.objects) keep(() => boxOnly(o, size, loc, labels));
  } catch (err) {
    if (!(err instanceof DatasetError)) throw err;
    ctx.report(err);
    return undefined;
  }
  return { id, subset, imagePath, width: size.width, height: size.height, instances };
}

/** The Pascal VOC adapter (`format: 'voc'`). */
export const vocAdapter: DatasetAdapter = {
  name: 'voc',
  async detect(root: string): Promise<boolean> {
    return (
      (await isDir(join(root, 'ImageSets'))) &&
      ((await isDir(join(root, 'JPEGImages'))) || (await isDir(join(root, 'Annotations'))))
    );
  },
  async load(root: string, ctx: DatasetLoadContext): Promise<AdapterResult> {
    let labels = defaultVocLabels();
    const mapPath = join(root, 'labelmap.txt');
    if (await isFile(mapPath)) {
      try {
        labels = await readVocLabelMap(mapPath);
      } catch (err) {
        if (!(err instanceof DatasetError)) throw err;
        ctx.report(err);
      }
    }
    const items: DatasetItem[] = [];
    for (const [subset, ids] of await readSubsets(root, labels)) {
      const loaded = await ctx.map(ids, (id) => loadItem(root, subset, id, labels, ctx));
      for (const it of loaded) if (it) items.push(it);
    }
    return { labels: labels.labels, items };
  },
};
