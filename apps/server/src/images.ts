/**
 * The `--images` folder: listing its images and resolving a request's image name safely (never a
 * path outside the folder). Only files directly in the folder are listed.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { InvalidFieldError, NotFoundError } from './errors.js';

/** File extensions listed as images (lower case), with the content type they are served with. */
export const IMAGE_TYPES: Readonly<Record<string, string>> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.avif': 'image/avif',
};

/** The content type of an image name by its extension (`application/octet-stream` if unknown). */
export function imageContentType(name: string): string {
  return IMAGE_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** Names of the image files directly in `dir`, sorted. */
export async function listImages(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith('.') && extname(e.name).toLowerCase() in IMAGE_TYPES)
    .map((e) => e.name)
    .sort();
}

/**
 * The absolute path of image `name` (a path relative to `dir`, e.g. `dog.jpg` or `sub/dog.jpg`).
 * @param field request field named in errors
 * @throws InvalidFieldError (400) for an empty, absolute or escaping name, or an unknown extension;
 *   NotFoundError (404) when no such file exists.
 */
export async function resolveImage(dir: string | undefined, name: unknown, field: string): Promise<string> {
  if (dir === undefined)
    throw new InvalidFieldError(
      field,
      'the server was started without --images, so no image can be named; send the image bytes instead',
    );
  if (typeof name !== 'string' || name.length === 0)
    throw new InvalidFieldError(field, `expected an image name under --images, got ${JSON.stringify(name)}`);
  const root = resolve(dir);
  const path = resolve(root, name);
  const rel = relative(root, path);
  if (isAbsolute(name) || rel.startsWith('..') || isAbsolute(rel) || rel === '') {
    throw new InvalidFieldError(field, `expected a path inside --images, got '${name}'`);
  }
  if (!(extname(path).toLowerCase() in IMAGE_TYPES)) {
    throw new InvalidFieldError(field, `expected an image file (${Object.keys(IMAGE_TYPES).join(' ')}), got '${name}'`);
  }
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile()) throw new NotFoundError(`${field}: no image '${name}' in ${join(root)}`);
  return path;
}
