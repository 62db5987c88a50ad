/**
 * Test-only: the reference fixtures as sam-model tensors. Paths come from @samtune/test-fixtures; a
 * missing fixture fails loudly with the path it looked for; tests never skip.
 */
import { readSafetensors } from '@samtune/tensor-files';
import type { FloatTensor, WeightMap } from '@samtune/sam-model';
import {
  fixtureTensor as fixtureEntry,
  referencePath,
  repoPath,
  repoRoot,
  sharedEmbeddingCacheDir,
  sharedPath,
} from '@samtune/test-fixtures';
export { repoRoot, sharedPath, referencePath, repoPath, sharedEmbeddingCacheDir };

/** Reads a safetensors fixture's tensors. */
export function readFixture(name: string): WeightMap {
  return readSafetensors(referencePath(name)).tensors;
}

/** A float32 tensor of a fixture map; throws naming the file and key when absent. */
export function fixtureTensor(map: WeightMap, file: string, key: string): FloatTensor {
  return fixtureEntry(map, file, key) as FloatTensor;
}
