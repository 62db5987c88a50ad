/**
 * The labels file: a COCO instances JSON next to the images (`<images>/_annotations.coco.json`, the
 * per-folder layout that `@samtune/datasets` and Roboflow exports use), so the labelled folder can be
 * fed straight to `samtune train`. Masks are stored as uncompressed COCO RLE with `area` and `bbox`
 * `[x,y,w,h]`. Saving one image replaces that image's annotations and keeps everything else in the
 * file (other images, unknown fields). Writes are atomic (temporary file + rename) and serialised.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomicAsync } from '@samtune/sam-model';
import { join } from 'node:path';
import { InvalidFieldError } from './errors.js';
import { rleArea, rleBbox, type CocoRle } from './rle.js';
import { SerialQueue } from './serial-queue.js';
import type { LabelInput } from './validate.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** File name of the labels, in the `--images` folder. */
export const LABELS_FILE = '_annotations.coco.json';

export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
  [extra: string]: unknown;
}

export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
  [extra: string]: unknown;
}

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  segmentation: CocoRle;
  area: number;
  /** `[x, y, width, height]` in pixels. */
  bbox: [number, number, number, number];
  iscrowd: 0 | 1;
  score?: number;
  [extra: string]: unknown;
}

/** A COCO instances document. */
export interface CocoDocument {
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
  [extra: string]: unknown;
}

/** The labels file exists but cannot be used (not JSON, not a COCO object); it is never overwritten then. */
export class LabelsFileError extends SamtuneError {
  readonly code: string = 'labels-file';
  readonly kind: ErrorKind = 'input';
  override readonly name = 'LabelsFileError';
}

/** What `save` did. */
export interface SaveResult {
  readonly file: string;
  readonly imageId: number;
  /** Annotations written for this image. */
  readonly saved: number;
  /** Annotations in the whole file. */
  readonly total: number;
}

const maxId = (items: readonly { id: number }[]): number =>
  items.reduce((m, x) => Math.max(m, typeof x.id === 'number' ? x.id : 0), 0);

export class LabelStore {
  private readonly queue = new SerialQueue();
  /** Absolute path of the COCO file. */
  readonly file: string;

  constructor(readonly dir: string) {
    this.file = join(dir, LABELS_FILE);
  }

  /** The document (an empty one when the file does not exist yet). @throws LabelsFileError when unreadable. */
  async read(): Promise<CocoDocument> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { images: [], annotations: [], categories: [] };
      throw new LabelsFileError(`LabelStore.read(): cannot read ${this.file}: ${(err as Error).message}`);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new LabelsFileError(
        `LabelStore.read(): ${this.file} is not valid JSON (${(err as Error).message}); fix or move it, it is not overwritten`,
      );
    }
    const o = doc as Partial<CocoDocument> | null;
    if (
      typeof o !== 'object' ||
      o === null ||
      Array.isArray(o) ||
      [o.images, o.annotations, o.categories].some((v) => v !== undefined && !Array.isArray(v))
    ) {
      throw new LabelsFileError(
        `LabelStore.read(): ${this.file} is not a COCO object {images: [], annotations: [], categories: []}; fix or move it, it is not overwritten`,
      );
    }
    return {
      ...o,
      images: o.images ?? [],
      annotations: o.annotations ?? [],
      categories: o.categories ?? [],
    } as CocoDocument;
  }

  /** The document restricted to one image (`file_name`), with all categories. */
  async readImage(fileName: string): Promise<CocoDocument> {
    const doc = await this.read();
    const images = doc.images.filter((im) => im.file_name === fileName);
    const ids = new Set(images.map((im) => im.id));
    return { images, annotations: doc.annotations.filter((a) => ids.has(a.image_id)), categories: doc.categories };
  }

  /**
   * Replaces the annotations of image `fileName` (size `(height,width)`) with `labels` and writes the
   * file atomically. Categories are found by name or added with the next id.
   * @throws InvalidFieldError (400) for a mask whose size is not the image's, or an empty mask.
   */
  save(fileName: string, width: number, height: number, labels: readonly LabelInput[]): Promise<SaveResult> {
    labels.forEach((l, i) => {
      const [h, w] = l.segmentation.size;
      if (h !== height || w !== width) {
        throw new InvalidFieldError(
          `annotations[${i}].segmentation.size`,
          `expected [${height}, ${width}] (the size of '${fileName}'), got [${h}, ${w}]`,
        );
      }
      if (rleArea(l.segmentation) === 0)
        throw new InvalidFieldError(
          `annotations[${i}].segmentation`,
          'expected a mask with at least one foreground pixel, got an empty mask',
        );
    });
    return this.queue.run(async () => {
      const doc = await this.read();
      let image = doc.images.find((im) => im.file_name === fileName);
      if (!image) {
        image = { id: maxId(doc.images) + 1, file_name: fileName, width, height };
        doc.images.push(image);
      } else {
        image.width = width;
        image.height = height;
      }
      const imageId = image.id;
      doc.annotations = doc.annotations.filter((a) => a.image_id !== imageId);
      let nextAnn = maxId(doc.annotations) + 1;
      for (const l of labels) {
        let cat = doc.categories.find((c) => c.name === l.category);
        if (!cat) {
          cat = { id: maxId(doc.categories) + 1, name: l.category, supercategory: 'none' };
          doc.categories.push(cat);
        }
        doc.annotations.push({
          id: nextAnn++,
          image_id: imageId,
          category_id: cat.id,
          segmentation: { size: [height, width], counts: [...l.segmentation.counts] },
          area: rleArea(l.segmentation),
          bbox: rleBbox(l.segmentation) as [number, number, number, number],
          iscrowd: 0,
          ...(l.score === undefined ? {} : { score: l.score }),
        });
      }
      await this.writeAtomic(doc);
      return { file: this.file, imageId, saved: labels.length, total: doc.annotations.length };
    });
  }

  private async writeAtomic(doc: CocoDocument): Promise<void> {
    await writeFileAtomicAsync(this.file, `${JSON.stringify(doc)}\n`);
  }
}
