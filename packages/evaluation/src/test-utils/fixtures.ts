/**
 * Test-only: the reference fixtures as sam-model tensors. Paths come from @samtune/test-fixtures; a
 * missing fixture fails loudly with the path it looked for; tests never skip.
 */
import { readSafetensors } from '@samtune/tensor-files';
import type { FloatTensor, WeightMap } from '@samtune/sam-model';
import { fixtureTensor as fixtureEntry, referencePath, repoPath, repoRoot, sharedPath } from '@samtune/test-fixtures';
export { repoRoot, sharedPath, referencePath, repoPath };

/** Reads a safetensors fixture's tensors. */
export function readFixture(name: string): WeightMap {
  return readSafetensors(referencePath(name)).tensors;
}

/** A float32 tensor of a fixture map; throws naming the file and key when absent. */
export function fixtureTensor(map: WeightMap, file: string, key: string): FloatTensor {
  return fixtureEntry(map, file, key) as FloatTensor;
}

/** No encoder run: every image gets the reference embedding of dog.jpg, which gives non-trivial masks. */
export const dogEmbedder = {
  async embed(): Promise<FloatTensor> {
    return fixtureTensor(
      readFixture('tinyvit_outputs.safetensors'),
      'tinyvit_outputs.safetensors',
      'dog.image_embeddings',
    );
  },
};
