/**
 * Test-only: locates the golden fixtures of `../shared/fixtures/sam-reference/`. A missing fixture
 * fails loudly with the path it looked for.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of `../shared/fixtures/sam-reference/<name>`; throws if it does not exist. */
export function referencePath(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('referencePath(name): no pnpm-workspace.yaml above the test file');
    dir = up;
  }
  const p = resolve(dir, '..', 'shared', 'fixtures', 'sam-reference', name);
  if (!existsSync(p)) throw new Error(`referencePath(name): fixture '${name}' not found at ${p} (../shared must sit beside the repo)`);
  return p;
}
