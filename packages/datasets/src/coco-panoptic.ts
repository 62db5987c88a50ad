/**
 * COCO panoptic annotations (https://cocodataset.org/#format-data, "Panoptic Segmentation") read as
 * instances: each `segments_info` entry of an image's annotation is one instance whose mask is the
 * pixels of its PNG (`<segments dir>/<annotation file_name>`) whose colour encodes its id
 * (`id = R + 256·G + 256²·B`). Things and stuff both become instances; the segment's `iscrowd` is
 * kept; its `bbox` is the box. The PNG is decoded each time a mask is asked for.
 */
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { BinaryMask } from '@samtune/transforms';
import { isFile } from './context.js';
import {
  DatasetError,
  MalformedAnnotationError,
  MaskDecodeError,
  UnknownCategoryError,
  UnreadableMaskError,
  type DatasetErrorLocation,
} from './errors.js';
import { describeJson } from './json-text.js';
import type { DatasetInstance, DatasetLabel } from './model.js';
import { readPng } from './png.js';
import { checkBox, parseCrowd, xywhToXyxy } from './shapes.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A COCO panoptic document: its annotations carry `segments_info` (and a PNG `file_name`). */
export function isPanopticDoc(doc: Json): boolean {
  const first = Array.isArray(doc.annotations) ? (doc.annotations[0] as unknown) : undefined;
  return isObj(first) && Array.isArray(first.segments_info);
}

/** The PNG folder of a panoptic JSON file: the file's path without `.json` (COCO's `panoptic_val2017/`). */
export function segmentsDirOf(file: string): string {
  return file.replace(/\.json$/i, '');
}

/**
 * The instances of one image's panoptic annotation; bad segments are reported through `report` and
 * skipped; a PNG that is missing or leaves `segmentsDir` skips the whole annotation.
 */
export async function panopticInstances(
  ann: Json,
  image: { readonly width: number; readonly height: number },
  segmentsDir: string,
  labels: ReadonlyMap<number, DatasetLabel>,
  loc: DatasetErrorLocation,
  report: (e: DatasetError) => void,
): Promise<DatasetInstance[]> {
  const png = typeof ann.file_name === 'string' ? ann.file_name.replace(/\\/g, '/') : undefined;
  const rel = png === undefined ? '..' : relative(resolve(segmentsDir), resolve(segmentsDir, png));
  if (png === undefined || rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    report(
      new MalformedAnnotationError(
        loc,
        `expected a PNG 'file_name' inside '${segmentsDir}', got ${describeJson(ann.file_name)}`,
        'annotation',
      ),
    );
    return [];
  }
  const path = join(segmentsDir, png);
  if (!(await isFile(path))) {
    report(new UnreadableMaskError(loc, path, 'the panoptic PNG does not exist'));
    return [];
  }
  const out: DatasetInstance[] = [];
  for (const [i, seg] of (ann.segments_info as unknown[]).entries()) {
    const id = isObj(seg) ? Number(seg.id) : Number.NaN;
    const sloc = { ...loc, annotationId: Number.isInteger(id) ? `segment ${id}` : `segments_info[${i}]` };
    try {
      if (!isObj(seg) || !Number.isInteger(id) || id <= 0)
        throw new MalformedAnnotationError(
          sloc,
          `expected a segment {id > 0, category_id, bbox}, got ${describeJson(seg)}`,
          'annotation',
        );
      const label = labels.get(Number(seg.category_id));
      if (!label) throw new UnknownCategoryError(sloc, seg.category_id as number, [...labels.keys()]);
      const box = checkBox(xywhToXyxy(seg.bbox, sloc), image, sloc);
      out.push({
        id: String(id),
        label,
        box,
        iscrowd: parseCrowd(seg.iscrowd, sloc),
        maskSource: 'png',
        attributes: {},
        mask: () => segmentMask(path, id, image),
      });
    } catch (err) {
      if (!(err instanceof DatasetError)) throw err;
      report(err);
    }
  }
  return out;
}

/** The pixels of segment `id` in a panoptic PNG (RGB or RGBA, the image's size). */
async function segmentMask(path: string, id: number, image: { width: number; height: number }): Promise<BinaryMask> {
  const png = await readPng(path);
  if (png.width !== image.width || png.height !== image.height || png.channels < 3)
    throw new MaskDecodeError(
      `segmentMask(${path}): expected an RGB PNG of (H,W)=(${image.height},${image.width}), got (${png.height},${png.width}) with ${png.channels} channel(s)`,
    );
  const data = new Uint8Array(image.width * image.height);
  const c = png.channels;
  const px = png.data;
  for (let i = 0; i < data.length; i++) {
    const v = (px[i * c] as number) + 256 * (px[i * c + 1] as number) + 65536 * (px[i * c + 2] as number);
    if (v === id) data[i] = 1;
  }
  return { width: image.width, height: image.height, data };
}
