/**
 * What a producer enqueues: the images (and, for autolabel, the prompts) under a `--data-root`.
 * A folder that a dataset adapter recognises (COCO, VOC, CSS, Datumaro) gives its items; any other
 * folder gives every image file below it (recursively, sorted), for `embed` only.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { detectDatasetFormats, loadDataset, type Dataset } from '@samtune/datasets';
import { containedPath, PathOutsideFolderError } from '@samtune/sam-model';
import { QueueInputError } from './errors.js';
import type { JobPrompt } from './job-data.js';

/** File extensions taken as images in a plain folder. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.tif',
  '.tiff',
  '.bmp',
  '.gif',
]);

/** One image to enqueue, with its prompts when it comes from a dataset. */
export interface SourceImage {
  readonly imagePath: string;
  readonly prompts: readonly JobPrompt[];
}

/** The images of a data root, and what the dataset reader skipped (file, item, reason). */
export interface SourceListing {
  readonly root: string;
  readonly images: readonly SourceImage[];
  readonly dataset: Dataset | undefined;
  readonly skipped: readonly string[];
}

/** Every image file below `dir` (recursive, sorted by path). */
export function listImageFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory() && !e.name.startsWith('.')) walk(p);
      else if ((e.isFile() || e.isSymbolicLink()) && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase())) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * The images a worker may read (inside `root` after symlinks, `job-schema.ts`), and the others as
 * skipped with the reason: a symlink out of the data root would fail its job on every worker.
 */
function containedImages(root: string, all: readonly SourceImage[]): { images: SourceImage[]; skipped: string[] } {
  const images: SourceImage[] = [];
  const skipped: string[] = [];
  for (const image of all) {
    try {
      containedPath(root, image.imagePath, { what: 'listSourceImages(dataRoot)' });
      images.push(image);
    } catch (e) {
      if (!(e instanceof PathOutsideFolderError)) throw e;
      skipped.push(`${e.message}; workers read images only inside the data root`);
    }
  }
  return { images, skipped };
}

/**
 * Lists `dataRoot` (a folder, or a Roboflow `_annotations.coco.json` file, read as its folder).
 * `requireDataset` (autolabel: the prompts come from the annotations) refuses a plain image folder.
 */
export async function listSourceImages(
  dataRoot: string,
  opts: { readonly requireDataset: boolean; readonly format?: string; readonly subsets?: readonly string[] },
): Promise<SourceListing> {
  let root = resolve(dataRoot);
  let st;
  try {
    st = statSync(root);
  } catch {
    throw new QueueInputError(`listSourceImages(dataRoot): '${root}' does not exist`);
  }
  if (st.isFile()) {
    if (basename(root) !== '_annotations.coco.json')
      throw new QueueInputError(
        `listSourceImages(dataRoot): '${root}' is a file; expected a dataset folder, an image folder, or a _annotations.coco.json beside its images`,
      );
    root = dirname(root);
  }
  const formats = opts.format ? [opts.format] : await detectDatasetFormats(root);
  if (formats.length === 0) {
    if (opts.requireDataset)
      throw new QueueInputError(
        `listSourceImages(dataRoot): '${root}' is not a dataset (COCO, VOC, CSS, Datumaro): autolabel takes its prompts from the annotations`,
      );
    const plain = listImageFiles(root).map((imagePath) => ({ imagePath, prompts: [] }));
    return { root, dataset: undefined, ...containedImages(root, plain) };
  }
  const dataset = await loadDataset(root, { format: formats[0] as string });
  const subsets = opts.subsets ?? Object.keys(dataset.subsets);
  const seen = new Set<string>();
  const images: SourceImage[] = [];
  for (const s of subsets) {
    const items = dataset.subsets[s];
    if (!items)
      throw new QueueInputError(
        `listSourceImages(subsets): no subset '${s}' in ${root}; it has ${Object.keys(dataset.subsets).join(', ')}`,
      );
    for (const item of items) {
      if (seen.has(item.imagePath)) continue;
      seen.add(item.imagePath);
      images.push({
        imagePath: item.imagePath,
        prompts: item.instances.map((inst) => ({
          instanceId: inst.id,
          categoryId: inst.label.id,
          box: [inst.box[0], inst.box[1], inst.box[2], inst.box[3]],
          ...(inst.points?.length ? { points: inst.points.map((p) => [p[0], p[1]] as const) } : {}),
        })),
      });
    }
  }
  const contained = containedImages(root, images);
  return {
    root,
    images: contained.images,
    dataset,
    skipped: [...dataset.skipped.map((s) => s.message), ...contained.skipped],
  };
}
