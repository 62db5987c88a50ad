/**
 * `samtune queue collect <id> --out labels.json`: merges the per-image label files of an autolabel
 * queue into one COCO instances file (compressed RLE masks), in the producer's image order.
 * `file_name` is the image path relative to `imageRoot` (default: the output's folder), so an output
 * named `_annotations.coco.json` reads back with `loadDataset(<its folder>)` wherever the images are
 * (with `allowImagesOutsideRoot: true` when they are not below that folder: `../` names are refused
 * by default).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import type { CocoLabelDocument } from '@samtune/evaluation';
import type { Redis } from 'ioredis';
import { writeFileAtomic } from '@samtune/tensor-files';
import { QueueInputError } from './errors.js';
import type { LabelFile } from './job-data.js';
import { readImageRecords, readQueueMeta } from './queue-store.js';

/** A COCO instances document of predicted labels (compressed RLE segmentations). */
export type CollectedCoco = CocoLabelDocument;

export interface CollectResult {
  readonly out: string;
  readonly images: number;
  readonly annotations: number;
  /** Images without a label file yet (pending or failed jobs). */
  readonly missing: readonly string[];
  /** Prompts without a label (empty mask, missing prompt kind), `<image>: instance <id>: reason`. */
  readonly skipped: readonly string[];
}

/** Merges queue `id`'s label files into `out` (atomic write). */
export async function collectLabels(
  redis: Redis,
  id: string,
  out: string,
  opts: { readonly imageRoot?: string } = {},
): Promise<CollectResult> {
  const meta = await readQueueMeta(redis, id);
  if (meta.kind !== 'autolabel')
    throw new QueueInputError(
      `collectLabels(id): queue ${id} has kind ${meta.kind}; only autolabel queues have labels`,
    );
  const outPath = resolve(out);
  const imageRoot = resolve(opts.imageRoot ?? dirname(outPath));
  const coco: CollectedCoco = {
    info: { description: `samtune queue collect ${id} (${meta.checkpoint})`, date_created: new Date().toISOString() },
    images: [],
    categories: (meta.categories ?? []).map((c) => ({ id: c.id, name: c.name, supercategory: 'none' })),
    annotations: [],
  };
  const missing: string[] = [];
  const skipped: string[] = [];
  for (const r of await readImageRecords(redis, id)) {
    if (!existsSync(r.outputPath)) {
      missing.push(r.imagePath);
      continue;
    }
    const file = JSON.parse(readFileSync(r.outputPath, 'utf8')) as LabelFile;
    const imageId = coco.images.length + 1;
    coco.images.push({
      id: imageId,
      file_name: relative(imageRoot, file.image.path).split(sep).join('/'),
      width: file.image.width,
      height: file.image.height,
    });
    for (const a of file.annotations) {
      coco.annotations.push({
        id: coco.annotations.length + 1,
        image_id: imageId,
        category_id: a.category_id,
        segmentation: a.segmentation,
        area: a.area,
        bbox: a.bbox,
        iscrowd: 0,
        score: a.score,
        prompt: a.prompt,
      });
    }
    for (const s of file.skipped) skipped.push(`${r.imagePath}: ${s}`);
  }
  writeFileAtomic(outPath, `${JSON.stringify(coco)}\n`);
  return { out: outPath, images: coco.images.length, annotations: coco.annotations.length, missing, skipped };
}
