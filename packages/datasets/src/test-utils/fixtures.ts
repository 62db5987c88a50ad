/**
 * Test-only: locates `../shared` (beside the repo root). A missing fixture fails loudly with the
 * path it looked for; tests never skip silently.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repo root: the nearest ancestor holding pnpm-workspace.yaml. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repoRoot(): no pnpm-workspace.yaml above the test file');
    dir = up;
  }
  return dir;
}

/** Absolute path of `../shared/<rel>`; throws if it does not exist. */
export function sharedPath(rel: string): string {
  const p = resolve(repoRoot(), '..', 'shared', rel);
  if (!existsSync(p)) throw new Error(`sharedPath(rel): fixture '${rel}' not found at ${p} (../shared must sit beside the repo)`);
  return p;
}

/** Absolute path of a dataset in `../shared/fixtures/datumaro-formats/`. */
export function datumaroFixture(rel: string): string {
  return sharedPath(join('fixtures', 'datumaro-formats', rel));
}
