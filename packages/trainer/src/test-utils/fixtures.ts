/**
 * Test-only: locates the repo root and `../shared` (reference fixtures, datasets). A missing fixture
 * fails loudly with the path it looked for; tests never skip.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '@samtune/sam-model';
import type { FloatTensor, HostTensor, WeightMap } from '@samtune/sam-model';

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

/** Absolute path of `../shared/fixtures/sam-reference/<name>`. */
export function referencePath(name: string): string {
  return sharedPath(join('fixtures', 'sam-reference', name));
}

/** Absolute path of `<repo>/<rel>`; throws if it does not exist. */
export function repoPath(rel: string): string {
  const p = resolve(repoRoot(), rel);
  if (!existsSync(p)) throw new Error(`repoPath(rel): '${rel}' not found at ${p}`);
  return p;
}

/** Reads a safetensors fixture's tensors. */
export function readFixture(name: string): WeightMap {
  return readSafetensors(referencePath(name)).tensors;
}

/** A float32 tensor of a fixture map; throws naming the file and key when absent. */
export function fixtureTensor(map: WeightMap, file: string, key: string): FloatTensor {
  const t: HostTensor | undefined = map.get(key);
  if (!t) throw new Error(`fixtureTensor(${file}, '${key}'): no such tensor (has ${map.size} keys)`);
  if (t.dtype !== 'float32') throw new Error(`fixtureTensor(${file}, '${key}'): dtype ${t.dtype}, expected float32`);
  return t as FloatTensor;
}
