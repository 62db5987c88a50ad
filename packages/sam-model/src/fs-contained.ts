/**
 * Paths read from files (model.json `models.*.file`, an ONNX initializer's external-data `location`,
 * a queue job's `imagePath` / `outputPath`) stay inside their folder: the one rule, realpath-based.
 * The name is resolved against the folder; after following symlinks (of the file itself, or of its
 * nearest existing ancestor for a file still to be written) it must lie inside the folder's own
 * realpath. Files to read must be regular files (no FIFO, device, socket or directory), so a
 * crafted name can neither leave the folder nor hang a read.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when a path read from a file leaves its folder, or is not a regular file where one is read. */
export class PathOutsideFolderError extends SamtuneError {
  readonly code: string = 'path-outside-folder';
  readonly kind: ErrorKind = 'input';
}

/** What `containedPath` checks. */
export interface ContainedPathOptions {
  /** Names the caller and the field in messages, e.g. `readModelJson(dir): models.decoder.file`. */
  readonly what: string;
  /** `read`: an existing regular file (default); `write`: a file that may not exist yet (if it does, a regular file). */
  readonly mode?: 'read' | 'write';
}

const inside = (root: string, p: string): boolean => {
  const r = relative(root, p);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
};

/** Realpath of `p`, or of its nearest existing ancestor joined with the rest. */
function realpathOrAncestor(p: string): string {
  if (existsSync(p)) return realpathSync(p);
  const parent = dirname(p);
  return parent === p ? p : join(realpathOrAncestor(parent), basename(p));
}

/**
 * `name` resolved inside `folder` (see the module comment); returns the real path to use.
 * @throws PathOutsideFolderError naming `what`, the name, the folder and what is wrong
 */
export function containedPath(folder: string, name: string, options: ContainedPathOptions): string {
  const { what } = options;
  const mode = options.mode ?? 'read';
  const fail = (why: string): never => {
    throw new PathOutsideFolderError(`${what}: expected a file inside ${folder}, got '${name}' (${why})`);
  };
  if (typeof name !== 'string' || name === '' || name.includes('\0')) fail('not a file name');
  if (!existsSync(folder)) fail('the folder does not exist');
  // A folder reached through a symlinked ancestor (`../shared -> /data/shared`) keeps its names:
  // an absolute name under the folder as given, or under its realpath, is inside; the realpath
  // check below is the one that decides where the bytes come from.
  const given = resolve(folder);
  const root = realpathSync(folder);
  const target = resolve(given, name);
  if (!inside(given, target) && !inside(root, target)) fail(`it resolves to ${target}`);
  if (mode === 'read' && !existsSync(target)) fail('missing');
  const real = realpathOrAncestor(target);
  if (!inside(root, real)) fail(`a symbolic link leads to ${real}`);
  if (existsSync(real)) {
    const st = statSync(real);
    if (!st.isFile()) fail(`it is ${st.isDirectory() ? 'a directory' : 'not a regular file (FIFO, device or socket)'}`);
  }
  return real;
}
