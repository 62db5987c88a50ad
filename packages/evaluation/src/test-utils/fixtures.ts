/**
 * Test-only: locates the repo root and `../shared` (reference fixtures, datasets). A missing fixture
 * fails loudly with the path it looked for; tests never skip.
 */
import { readSafetensors } from '@samtune/sam-model';
import type { FloatTensor, HostTensor, WeightMap } from '@samtune/sam-model';
import { repoRoot, sharedPath, referencePath, repoPath } from '@samtune/test-fixtures';
export { repoRoot, sharedPath, referencePath, repoPath };

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
