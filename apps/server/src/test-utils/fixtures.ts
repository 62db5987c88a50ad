/**
 * Test-only: paths of the reference fixtures in `../shared` (beside the repo root). A missing
 * fixture throws with the path it looked for; tests never skip.
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

/** Absolute path of `../shared/fixtures/sam-reference/<name>`; throws if it does not exist. */
export function referencePath(name: string): string {
  const p = resolve(repoRoot(), '..', 'shared', 'fixtures', 'sam-reference', name);
  if (!existsSync(p)) throw new Error(`referencePath(name): fixture '${name}' not found at ${p} (../shared must sit beside the repo)`);
  return p;
}
