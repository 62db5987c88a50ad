/**
 * Path containment, the one rule every reader, the adapter context and the plugin API use for a path
 * read from a dataset file (a COCO `file_name`, a Datumaro `image.path`, a VOC `ImageSets` id or
 * `<filename>`, a mask name): the name joined to a folder must stay inside it, first as written (no
 * absolute name, no `..` escape, no NUL) and then as the file system resolves it (`realpath`, so a
 * symlink to a file elsewhere is outside too). The folder itself may be a symlink: its real path is
 * the reference.
 */
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';

/** Where a name resolved to, or why it is outside. */
export type Containment =
  | { readonly inside: true; readonly path: string }
  | { readonly inside: false; readonly path: string; readonly reason: string };

/** True when `path` is below `root` (both absolute); `root` itself is not below. */
export function isBelow(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * Resolves `name` against `folders` (lookup order: the first folder where it is a file, else the
 * first folder) and checks that it stays below one of them, as written and as `realpath` resolves it.
 * @param folders candidate folders, in lookup order
 * @param name the path as read from a dataset file
 */
export async function resolveContained(folders: readonly string[], name: string): Promise<Containment> {
  const roots = folders.map((f) => resolve(f));
  const candidates = roots.map((r) => resolve(r, name));
  let path = candidates[0] ?? resolve(name);
  for (const c of candidates)
    if (
      await stat(c).then(
        (s) => s.isFile(),
        () => false,
      )
    ) {
      path = c;
      break;
    }
  if (name.includes('\0')) return { inside: false, path, reason: 'it has a NUL character' };
  if (isAbsolute(name) || /^[A-Za-z]:[\\/]/.test(name)) return { inside: false, path, reason: 'it is absolute' };
  if (!roots.some((r) => isBelow(r, path))) return { inside: false, path, reason: "it leaves with '..'" };
  const real = await realpath(path).catch(() => undefined);
  if (real === undefined) return { inside: true, path }; // missing: the image check reports it
  const realRoots = await Promise.all(roots.map((r) => realpath(r).catch(() => r)));
  if (!realRoots.some((r) => isBelow(r, real))) return { inside: false, path, reason: `it is a symlink to '${real}'` };
  return { inside: true, path };
}
