/**
 * Image paths written inside annotation files (LabelMe `imagePath`, YOLO `data.yaml` folders, SA-1B
 * `file_name`): resolved with either separator, and kept inside the dataset root unless the caller
 * allows otherwise (`LoadOptions.allowImagesOutsideRoot`), like COCO `file_name`s.
 */
import { open } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { DatasetLoadContext } from './context.js';
import { IMAGE_EXTENSIONS, isDir, isFile, listDir } from './context.js';
import { ImageOutsideRootError, type DatasetErrorLocation } from './errors.js';
import { isBelow, resolveContained } from './containment.js';

/** True when `path` is `root` itself or below it (`isBelow`, the containment rule's own test). */
export function isInside(root: string, path: string): boolean {
  const [r, p] = [resolve(root), resolve(path)];
  return r === p || isBelow(r, p);
}

/**
 * `name` (a path from an annotation file, relative to `dir`; `\` read as a separator, as Windows tools
 * write it) resolved and kept inside `root` by the one containment rule (`resolveContained`:
 * absolute names, `..` escapes and symlinks out are reported as `ImageOutsideRootError` and give
 * undefined, unless `ctx` allows images outside the root).
 */
export async function resolveImagePath(
  ctx: DatasetLoadContext,
  root: string,
  dir: string,
  name: string,
  loc: DatasetErrorLocation,
  field = 'file_name',
): Promise<string | undefined> {
  const slashed = name.replace(/\\/g, '/');
  const rel = isAbsolute(slashed) ? slashed : relative(resolve(root), resolve(dir, slashed));
  const c = await resolveContained([root], rel);
  if (c.inside || ctx.allowImagesOutsideRoot) return c.path;
  ctx.report(new ImageOutsideRootError(loc, name, root, field, c.reason));
  return undefined;
}

/** The image file `<dir>/<stem><ext>` for the first of `IMAGE_EXTENSIONS` (either case) that exists. */
export async function findImage(dir: string, stem: string): Promise<string | undefined> {
  for (const ext of IMAGE_EXTENSIONS)
    for (const e of [ext, ext.toUpperCase()]) if (await isFile(join(dir, stem + e))) return join(dir, stem + e);
  return undefined;
}

/** The first `bytes` bytes of a file as UTF-8 (for cheap format detection); '' when unreadable. */
export async function readHead(path: string, bytes = 4096): Promise<string> {
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(bytes);
      const { bytesRead } = await fh.read(buf, 0, bytes, 0);
      return buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return '';
  }
}

/** Annotation files of one subset: the root's (`default`) or a sub-folder's (its name). */
export interface AnnotationFolder {
  readonly subset: string;
  readonly dir: string;
  /** File names in `dir`, sorted. */
  readonly files: readonly string[];
}

/**
 * Folders holding annotation files that `accept` recognises: the root (subset `default`) and each
 * direct sub-folder (subset = its name). With `max`, stops after that many files (for `detect`).
 */
export async function annotationFolders(
  root: string,
  accept: (dir: string, name: string) => Promise<boolean>,
  max = Infinity,
): Promise<AnnotationFolder[]> {
  const out: AnnotationFolder[] = [];
  let found = 0;
  const scan = async (subset: string, dir: string): Promise<void> => {
    const files: string[] = [];
    for (const name of await listDir(dir)) {
      if (found >= max) break;
      if (await accept(dir, name)) {
        files.push(name);
        found++;
      }
    }
    if (files.length > 0) out.push({ subset, dir, files });
  };
  await scan('default', root);
  for (const name of await listDir(root)) {
    if (found >= max) break;
    if (await isDir(join(root, name))) await scan(name, join(root, name));
  }
  return out;
}
