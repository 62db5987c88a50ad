/**
 * The `--images` folder: listing its images and resolving a request's image name safely: the name
 * and then the real path (symlinks followed with `realpath`) must both stay inside the folder's real
 * path, so neither `../`, an absolute name nor a symlink reaches another file. Only files directly in
 * the folder are listed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { InvalidFieldError, NotFoundError, show } from './errors.js';

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

/** True when `path` is `root` or inside it (both absolute, normalised). */
const inside = (root: string, path: string): boolean =>
  path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

/** Names of the image files directly in `dir` (regular files, not symlinks), sorted. */
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
 * @throws InvalidFieldError (400) for an empty name or an unknown extension; NotFoundError (404) for
 *   an absolute or escaping name, a symlink to a file outside the folder, or no such file.
 */
export async function resolveImage(dir: string | undefined, name: unknown, field: string): Promise<string> {
  return (await resolveImageName(dir, name, field)).path;
}

/**
 * `resolveImage`, with the image's canonical name: its real path relative to the folder's real
 * path, `/`-separated (`./a.jpg`, `sub/../a.jpg` and a symlink inside the folder to `a.jpg` are all
 * `a.jpg`), the name labels are saved under.
 */
export async function resolveImageName(
  dir: string | undefined,
  name: unknown,
  field: string,
): Promise<{ path: string; name: string }> {
  if (dir === undefined)
    throw new InvalidFieldError(
      field,
      'the server was started without --images, so no image can be named; send the image bytes instead',
    );
  if (typeof name !== 'string' || name.length === 0)
    throw new InvalidFieldError(field, `expected an image name under --images, got ${show(name)}`);
  const root = await realpath(resolve(dir));
  const path = resolve(root, name);
  const rel = relative(root, path);
  if (isAbsolute(name) || name.includes('\0') || rel.startsWith('..') || isAbsolute(rel) || rel === '') {
    throw new NotFoundError(`${field}: expected a path inside --images, got ${show(name)}`);
  }
  if (!(extname(path).toLowerCase() in IMAGE_TYPES)) {
    throw new InvalidFieldError(
      field,
      `expected an image file (${Object.keys(IMAGE_TYPES).join(' ')}), got ${show(name)}`,
    );
  }
  const real = await realpath(path).catch(() => undefined);
  const st = real === undefined ? undefined : await stat(real).catch(() => undefined);
  if (real === undefined || !st?.isFile()) throw new NotFoundError(`${field}: no image ${show(name)} in ${root}`);
  if (!inside(root, real))
    throw new NotFoundError(
      `${field}: ${show(name)} resolves to a file outside --images (a symlink); it is not served`,
    );
  return { path: real, name: relative(root, real).split(sep).join('/') };
}

/** File extension an uploaded image is stored under, by its decoded format (sharp's names). */
const EXT_BY_FORMAT: Readonly<Record<string, string>> = {
  jpeg: '.jpg',
  png: '.png',
  webp: '.webp',
  gif: '.gif',
  tiff: '.tif',
  heif: '.avif',
  avif: '.avif',
};

/** A fresh hidden temporary file name in `root` (not listed: it starts with `.`, its extension is no image's). */
export const uploadTempPath = (root: string): string =>
  resolve(root, `.upload-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);

/** SHA-256 of a file, streamed. */
async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** True when both files hold the same bytes (sizes first, then streamed digests). */
async function sameBytes(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a), stat(b)]);
  if (sa.size !== sb.size) return false;
  const [da, db] = await Promise.all([fileDigest(a), fileDigest(b)]);
  return da === db;
}

/**
 * Gives a complete temporary file `tmp` (in the folder `dir`) its final name: a safe version of the
 * client's file name (its base name, characters outside `[A-Za-z0-9._ -]` replaced, the extension of
 * the decoded `format`), hard-linked only if that name is free (`link` never overwrites), so a name
 * is only ever seen complete. The same bytes under the same name are kept as they are (concurrent
 * identical uploads make one file); another file of that name gets `-1`, `-2`, … The caller
 * removes `tmp`.
 * @returns the name under `dir`
 */
export async function placeUpload(dir: string, tmp: string, clientName: string, format: string): Promise<string> {
  const ext = EXT_BY_FORMAT[format] ?? '.img';
  const base =
    (clientName.split(/[\\/]/).pop() ?? '')
      .replace(/\.[^.]*$/, '')
      .replace(/[^A-Za-z0-9._ -]/g, '_')
      .replace(/^[.\s]+/, '')
      .slice(0, 120) || 'upload';
  const root = await realpath(resolve(dir));
  for (let k = 0; k < 1000; k++) {
    const name = `${base}${k === 0 ? '' : `-${k}`}${ext}`;
    const path = resolve(root, name);
    try {
      await link(tmp, path);
      return name;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await sameBytes(tmp, path).catch(() => false)) return name;
    }
  }
  throw new InvalidFieldError('name', `no free file name for ${show(clientName)} in --images after 1000 tries`);
}

/**
 * Stores uploaded image bytes in `dir`: written to a hidden temporary file first, then given its
 * name by `placeUpload`; a failed write (disk full) leaves no truncated image.
 * @returns the name under `dir`
 */
export async function storeUpload(dir: string, clientName: string, format: string, bytes: Uint8Array): Promise<string> {
  const tmp = uploadTempPath(await realpath(resolve(dir)));
  try {
    await writeFile(tmp, bytes, { flag: 'wx' });
    return await placeUpload(dir, tmp, clientName, format);
  } finally {
    await rm(tmp, { force: true });
  }
}
