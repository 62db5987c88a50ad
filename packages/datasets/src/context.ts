/**
 * What a reader gets while loading: the error policy (report and skip, or throw in strict mode) and
 * image checks. Custom adapters receive the same object.
 */
import { ImageNotFoundError, readImage, readImageInfo } from '@samtune/transforms';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveContained } from './containment.js';
import {
  ImageOutsideRootError,
  ImageSizeMismatchError,
  MissingImageError,
  UnreadableImageError,
  type DatasetError,
  type DatasetErrorLocation,
} from './errors.js';
import type { ImageCheck, SkippedEntry } from './model.js';

/** Image size `(H,W)` in pixels. */
export interface ImageSizeHW {
  readonly width: number;
  readonly height: number;
}

/** Given to every adapter's `load`. */
export interface DatasetLoadContext {
  /** `strict: true` makes `report` throw. */
  readonly strict: boolean;
  readonly imageCheck: ImageCheck;
  readonly concurrency: number;
  /** Image paths may leave the dataset's image folder (`LoadOptions.allowImagesOutsideRoot`). */
  readonly allowImagesOutsideRoot?: boolean;
  /** Records a bad-input error (skip), or throws it in strict mode. */
  report(error: DatasetError): void;
  /**
   * The absolute path of `name` (read from a dataset file) in the first of `folders` that has it, or
   * undefined after reporting `ImageOutsideRootError` when it leaves them: absolute, `..`, or a
   * symlink to a file elsewhere (`resolveContained`), unless `allowImagesOutsideRoot`.
   * @param field what `name` is, named in the error (e.g. `image.path`)
   */
  containedPath(
    folders: readonly string[],
    name: string,
    loc: DatasetErrorLocation,
    field: string,
  ): Promise<string | undefined>;
  /**
   * Checks an item's image: it must exist and be readable (`imageCheck`), and match `declared` when
   * given. Reports the problem and returns undefined when it fails.
   */
  checkImage(path: string, loc: DatasetErrorLocation, declared?: ImageSizeHW): Promise<ImageSizeHW | undefined>;
  /** Runs `fn` over `items` with at most `concurrency` in flight; results keep the input order. */
  map<T, R>(items: readonly T[], fn: (item: T, index: number) => Promise<R>): Promise<R[]>;
}

/** Runs `fn` over `items` with at most `limit` promises in flight; keeps order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** The standard context; `skipped` collects what `report` received. */
export class LoadContext implements DatasetLoadContext {
  readonly skipped: SkippedEntry[] = [];
  constructor(
    readonly strict: boolean,
    readonly imageCheck: ImageCheck,
    readonly concurrency: number,
    readonly allowImagesOutsideRoot = false,
  ) {}

  report(error: DatasetError): void {
    if (this.strict) throw error;
    this.skipped.push({
      kind: error.code,
      scope: error.scope,
      reader: error.reader,
      file: error.file,
      subset: error.subset,
      itemId: error.itemId,
      annotationId: error.annotationId,
      message: error.message,
      error,
    });
  }

  async containedPath(
    folders: readonly string[],
    name: string,
    loc: DatasetErrorLocation,
    field: string,
  ): Promise<string | undefined> {
    const c = await resolveContained(folders, name);
    if (c.inside || this.allowImagesOutsideRoot) return c.path;
    this.report(new ImageOutsideRootError(loc, name, folders[0] ?? '.', field, c.reason));
    return undefined;
  }

  async checkImage(path: string, loc: DatasetErrorLocation, declared?: ImageSizeHW): Promise<ImageSizeHW | undefined> {
    let size: ImageSizeHW;
    try {
      const info = await readImageInfo(path);
      size = { width: info.width, height: info.height };
      if (this.imageCheck === 'decode') await readImage(path);
    } catch (err) {
      if (err instanceof ImageNotFoundError) this.report(new MissingImageError(loc, path, await notFoundDetail(path)));
      else this.report(new UnreadableImageError(loc, path, err instanceof Error ? err.message : String(err)));
      return undefined;
    }
    if (declared && (declared.width !== size.width || declared.height !== size.height)) {
      this.report(new ImageSizeMismatchError(loc, declared, size));
      return undefined;
    }
    return size;
  }

  map<T, R>(items: readonly T[], fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
    return mapLimit(items, this.concurrency, fn);
  }
}

/** Why an image path is not a readable file: missing, or present but a directory / special file. */
async function notFoundDetail(path: string): Promise<string> {
  try {
    const st = await stat(path);
    return st.isDirectory()
      ? 'is a directory, expected a regular image file'
      : 'is not a regular file (a socket, FIFO or device), expected an image file';
  } catch {
    return 'does not exist';
  }
}

/** True when `path` is an existing regular file. */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** True when `path` is an existing directory. */
export async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Names in a directory (sorted), or [] when it does not exist. */
export async function listDir(path: string): Promise<string[]> {
  try {
    return (await readdir(path)).sort();
  } catch {
    return [];
  }
}

/** Files under `dir` (recursive), as sorted POSIX paths relative to `dir`. */
export async function listFilesRecursive(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) out.push(r);
    }
  };
  await walk('');
  return out.sort();
}

/** Image file extensions the readers look for (lower case, with dot). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp', '.gif'];
