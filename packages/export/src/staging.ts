/**
 * Every export is staged: written into a fresh folder beside the target (same filesystem, so the
 * final moves are renames), verified there, and moved into place only when the whole export
 * succeeded; a failed export (a verification error, non-finite weights, a kill) leaves no partial
 * folder. The staging folder is created with the process umask (not `mkdtemp`'s 0700), so the
 * published folder gets the same mode as any folder the user creates.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when the export target cannot be created (a file where a directory is needed, no permission). */
export class ExportTargetError extends SamtuneError {
  readonly code: string = 'export-target';
  readonly kind: ErrorKind = 'input';
}

/** A fresh staging folder beside `target`, mode `0777 & ~umask` like `mkdir`. */
function stagingDirFor(target: string, caller: string): string {
  const parent = dirname(target);
  try {
    if (existsSync(target) && !statSync(target).isDirectory()) throw new Error('it exists and is not a directory');
    mkdirSync(parent, { recursive: true });
    const dir = join(parent, `.${basename(target)}.export-${randomBytes(6).toString('hex')}`);
    mkdirSync(dir);
    return dir;
  } catch (e) {
    throw new ExportTargetError(
      `${caller}: expected a directory path that can be created, got '${target}' (${(e as Error).message})`,
    );
  }
}

/**
 * Moves the staged files into `target`: one rename of the folder when `target` does not exist (or
 * is empty), else entry by entry (sub-folders merged), with `last` (the file that marks a complete
 * export: `model.json`, `config.json`) moved last; other files in `target` are kept.
 */
function publish(staging: string, target: string, last: string): void {
  if (existsSync(target) && readdirSync(target).length === 0) rmdirSync(target);
  if (!existsSync(target)) {
    renameSync(staging, target);
    return;
  }
  const names = readdirSync(staging).sort((a, b) => Number(a === last) - Number(b === last));
  for (const n of names) {
    const from = join(staging, n);
    const to = join(target, n);
    if (statSync(from).isDirectory() && existsSync(to) && statSync(to).isDirectory()) publish(from, to, last);
    else renameSync(from, to);
  }
  if (existsSync(staging)) rmdirSync(staging);
}

/**
 * Runs `write(staging)` in a staging folder beside `dir` and publishes it to `dir` (see the module
 * comment); the staging folder is removed when `write` throws.
 * @param caller names the function and argument in messages, e.g. `exportSamOnnx(dir)`
 * @param last the file moved last into an existing folder
 * @returns what `write` returned, and the absolute target
 */
export async function writeStaged<T>(
  dir: string,
  caller: string,
  last: string,
  write: (staging: string) => Promise<T>,
): Promise<{ result: T; target: string }> {
  const target = resolve(dir);
  const staging = stagingDirFor(target, caller);
  try {
    const result = await write(staging);
    publish(staging, target, last);
    return { result, target };
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}
