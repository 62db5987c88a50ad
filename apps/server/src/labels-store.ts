/**
 * The labels file: a COCO instances JSON next to the images (`<images>/_annotations.coco.json`, the
 * per-folder layout that `@samtune/datasets` and Roboflow exports use), so the labelled folder can be
 * fed straight to `samtune train`. Masks are stored as compressed COCO RLE (pycocotools' string
 * code) with `area` and `bbox` `[x,y,w,h]`; the file is written one item per line (`labels-file.ts`).
 * Saving one image replaces that image's annotations and keeps everything else in the file (other
 * images, unknown fields). Writes are atomic (temporary file + rename) and serialised: within the
 * process by a queue, across processes (two servers on one folder) by a lock file
 * (`_annotations.coco.json.lock`, proper-lockfile). Image names are canonical (`./a.jpg`,
 * `sub/../a.jpg` and `a.jpg/.` are `a.jpg`): aliases never make a second COCO image.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import lockfile from 'proper-lockfile';
import { encodeRleString, decodeRleString } from '@samtune/datasets';
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import { writeFileAtomicAsync } from '@samtune/tensor-files';
import { InvalidFieldError } from './errors.js';
import {
  labelsFileChunks,
  LabelsFileError,
  readLabelsFile,
  WHOLE_FILE_BYTES,
  type CocoAnnotation,
  type CocoDocument,
  type CompressedRle,
} from './labels-file.js';
import { rleArea, rleBbox, type CocoRle } from './rle.js';
import { SerialQueue } from './serial-queue.js';
import type { LabelInput } from './validate.js';

export {
  LabelsFileError,
  type CocoAnnotation,
  type CocoCategory,
  type CocoDocument,
  type CocoImage,
  type CompressedRle,
} from './labels-file.js';

/** File name of the labels, in the `--images` folder. */
export const LABELS_FILE = '_annotations.coco.json';

/** Another process held the labels file's lock for longer than `LabelStore`'s wait (409). */
export class LabelsLockedError extends SamtuneError {
  readonly code: string = 'labels-locked';
  readonly kind: ErrorKind = 'conflict';
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

/** Options of `LabelStore`. */
export interface LabelStoreOptions {
  /** Files up to this size are read with one `JSON.parse`, larger ones line by line. Default 256 MiB. */
  readonly wholeFileBytes?: number;
  /** How long a save waits for another process's lock before a `LabelsLockedError`, in ms. Default 30 s. */
  readonly lockWaitMs?: number;
}

const maxId = (items: readonly { id: number }[]): number =>
  items.reduce((m, x) => Math.max(m, typeof x.id === 'number' ? x.id : 0), 0);

/**
 * The canonical form of an image name relative to the images folder: `.` and `..` segments,
 * repeated and trailing slashes resolved lexically (`./a.jpg`, `sub/../a.jpg`, `a.jpg/.` -> `a.jpg`).
 */
export function canonicalImageName(name: string): string {
  const n = posix.normalize(name).replace(/\/+$/, '');
  return n === '.' ? '' : n;
}

/** A segmentation with uncompressed counts (the API's form); compressed strings decoded. */
export function uncompressedRle(seg: CompressedRle | CocoRle): CocoRle {
  return typeof seg.counts === 'string' ? { size: seg.size, counts: decodeRleString(seg.counts) } : (seg as CocoRle);
}

export class LabelStore {
  private readonly queue = new SerialQueue();
  /** Absolute path of the COCO file. */
  readonly file: string;

  constructor(
    readonly dir: string,
    private readonly opts: LabelStoreOptions = {},
  ) {
    this.file = join(dir, LABELS_FILE);
  }

  /** The document (an empty one when the file does not exist yet). @throws LabelsFileError when unreadable. */
  read(): Promise<CocoDocument> {
    return readLabelsFile(this.file, this.opts.wholeFileBytes ?? WHOLE_FILE_BYTES);
  }

  /**
   * The file's bytes as stored, streamed (undefined when there is no file yet). Opened without
   * following a symlink: a labels file that is a link (to a file outside the folder) is never served.
   * @throws LabelsFileError for a symlink or anything but a regular file.
   */
  async stream(): Promise<Readable | undefined> {
    let handle;
    try {
      handle = await open(this.file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      throw new LabelsFileError(
        `LabelStore.stream(): cannot read ${this.file}: ${code === 'ELOOP' ? 'it is a symlink, which is not followed' : (err as Error).message}`,
      );
    }
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      throw new LabelsFileError(`LabelStore.stream(): expected ${this.file} to be a regular file, got another kind`);
    }
    return handle.createReadStream();
  }

  /**
   * The document restricted to one image (`file_name`, compared in canonical form), with all
   * categories; masks with uncompressed counts (the API's form).
   */
  async readImage(fileName: string): Promise<CocoDocument> {
    const doc = await this.read();
    const key = canonicalImageName(fileName);
    const images = doc.images.filter((im) => canonicalImageName(String(im.file_name)) === key);
    const ids = new Set(images.map((im) => im.id));
    const annotations = doc.annotations
      .filter((a) => ids.has(a.image_id))
      .map((a) => ({ ...a, segmentation: uncompressedRle(a.segmentation) }));
    return { images, annotations, categories: doc.categories };
  }

  /** Runs `task` holding the labels file's lock (other processes wait for it). */
  private async locked<T>(task: () => Promise<T>): Promise<T> {
    const waitMs = this.opts.lockWaitMs ?? 30_000;
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(this.file, {
        realpath: false,
        stale: 10_000,
        retries: {
          retries: Math.max(1, Math.ceil(waitMs / 100)),
          factor: 1,
          minTimeout: 20,
          maxTimeout: 100,
          randomize: true,
        },
        // a lock lost while held (its mtime not refreshed for 10 s) is only reported by the next release
        onCompromised: () => undefined,
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      throw new LabelsLockedError(
        `LabelStore.save(): expected the lock ${this.file}.lock to be free within ${waitMs} ms, got it held by another process (another server on this folder?)`,
      );
    }
    try {
      return await task();
    } finally {
      await release().catch(() => undefined);
    }
  }

  /**
   * Replaces the annotations of image `fileName` (size `(height,width)`) with `labels` and writes the
   * file atomically, under the cross-process lock. Categories are found by name or added with the
   * next id. Entries of the same image under alias names are merged into the canonical one.
   * @throws InvalidFieldError (400) for a mask whose size is not the image's, or an empty mask;
   *   LabelsLockedError (409) when another process holds the lock too long.
   */
  save(fileName: string, width: number, height: number, labels: readonly LabelInput[]): Promise<SaveResult> {
    const key = canonicalImageName(fileName);
    labels.forEach((l, i) => {
      const [h, w] = l.segmentation.size;
      if (h !== height || w !== width) {
        throw new InvalidFieldError(
          `annotations[${i}].segmentation.size`,
          `expected [${height}, ${width}] (the size of '${key}'), got [${h}, ${w}]`,
        );
      }
      if (rleArea(l.segmentation) === 0)
        throw new InvalidFieldError(
          `annotations[${i}].segmentation`,
          'expected a mask with at least one foreground pixel, got an empty mask',
        );
    });
    return this.queue.run(() =>
      this.locked(async () => {
        const doc = await this.read();
        const same = doc.images.filter((im) => canonicalImageName(String(im.file_name)) === key);
        let image = same[0];
        if (!image) {
          image = { id: maxId(doc.images) + 1, file_name: key, width, height };
          doc.images.push(image);
        } else Object.assign(image, { file_name: key, width, height });
        const dropped = new Set(same.map((im) => im.id));
        doc.images = doc.images.filter((im) => im === image || !dropped.has(im.id));
        const imageId = image.id;
        doc.annotations = doc.annotations.filter((a) => !dropped.has(a.image_id));
        let nextAnn = maxId(doc.annotations) + 1;
        for (const l of labels) {
          let cat = doc.categories.find((c) => c.name === l.category);
          if (!cat) {
            cat = { id: maxId(doc.categories) + 1, name: l.category, supercategory: 'none' };
            doc.categories.push(cat);
          }
          const ann: CocoAnnotation = {
            id: nextAnn++,
            image_id: imageId,
            category_id: cat.id,
            segmentation: { size: [height, width], counts: encodeRleString(l.segmentation.counts) },
            area: rleArea(l.segmentation),
            bbox: rleBbox(l.segmentation) as [number, number, number, number],
            iscrowd: 0,
            ...(l.score === undefined ? {} : { score: l.score }),
          };
          doc.annotations.push(ann);
        }
        await writeFileAtomicAsync(this.file, labelsFileChunks(doc));
        return { file: this.file, imageId, saved: labels.length, total: doc.annotations.length };
      }),
    );
  }
}
