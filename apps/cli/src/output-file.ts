/** Checking an `--out` file path before any work (used by `autolabel`, `predict` and `eval`). */
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './command.js';

/**
 * Checks, before any work, that `out` can be written as a file: not a directory, its folder creatable
 * and writable (a probe file is created and removed). Throws UsageError saying what is wrong.
 */
export function checkOutputFile(out: string): void {
  const path = resolve(out);
  if (existsSync(path) && statSync(path).isDirectory())
    throw new UsageError(`--out ${out}: is a directory, expected a file path (e.g. ${join(out, 'labels.json')})`);
  let up = dirname(path);
  while (!existsSync(up) && dirname(up) !== up) up = dirname(up);
  if (!statSync(up).isDirectory())
    throw new UsageError(`--out ${out}: '${up}' is a file, expected a directory to write into`);
  const probe = join(dirname(path), `.${basename(path)}.${process.pid}.probe`);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (e) {
    throw new UsageError(
      `--out ${out}: cannot write into '${dirname(path)}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
}
