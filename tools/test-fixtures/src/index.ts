/**
 * Test-only helpers shared by every package's tests: where the repo root and `../shared` (the
 * reference fixtures and datasets beside the repo) are. A missing fixture fails loudly with the path
 * it looked for; tests never skip silently. Production code never imports this package (lint).
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repo root: the nearest ancestor of this file holding pnpm-workspace.yaml. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repoRoot(): no pnpm-workspace.yaml above @samtune/test-fixtures');
    dir = up;
  }
  return dir;
}

/** Absolute path of `<repo>/<rel>` (e.g. `examples/plant-mini`); throws if it does not exist. */
export function repoPath(rel: string): string {
  const p = resolve(repoRoot(), rel);
  if (!existsSync(p)) throw new Error(`repoPath(rel): '${rel}' not found at ${p}`);
  return p;
}

/** Absolute path of `../shared/<rel>`; throws if it does not exist. */
export function sharedPath(rel: string): string {
  const p = resolve(repoRoot(), '..', 'shared', rel);
  if (!existsSync(p))
    throw new Error(`sharedPath(rel): fixture '${rel}' not found at ${p} (../shared must sit beside the repo)`);
  return p;
}

/** Absolute path of `../shared/fixtures/sam-reference/<name>` (the official-code golden outputs). */
export function referencePath(name: string): string {
  return sharedPath(join('fixtures', 'sam-reference', name));
}

/**
 * The image-embedding cache folder shared by the end-to-end tests that train on real photos
 * (examples/plant-mini with tinyvit.pth): `<tmpdir>/samtune-test-embeddings`. The cache is
 * content-addressed (image-encoder weights, image bytes, pre-processing version) and its writes are
 * atomic, so tests, and test processes running at the same time, share it safely: each photo is
 * encoded once per machine instead of once per test. A test that counts computed embeddings, or
 * tests the cache itself, keeps its own folder.
 */
export function sharedEmbeddingCacheDir(): string {
  return join(tmpdir(), 'samtune-test-embeddings');
}

/** Absolute path of `../shared/fixtures/datumaro-formats/<rel>`. */
export function datumaroFixture(rel: string): string {
  return sharedPath(join('fixtures', 'datumaro-formats', rel));
}

/** The shape of a tensor in a fixture map (structurally sam-model's `HostTensor`). */
export interface FixtureTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: ArrayLike<number> | ArrayLike<bigint>;
}

/** A float32 tensor of a fixture map; throws naming the file and key when absent or not float32. */
export function fixtureTensor<T extends FixtureTensor>(map: ReadonlyMap<string, T>, file: string, key: string): T {
  const t = map.get(key);
  if (!t) throw new Error(`fixtureTensor(${file}, '${key}'): no such tensor (has ${map.size} keys)`);
  if (t.dtype !== 'float32') throw new Error(`fixtureTensor(${file}, '${key}'): dtype ${t.dtype}, expected float32`);
  return t;
}
