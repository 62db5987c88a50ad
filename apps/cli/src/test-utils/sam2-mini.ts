/**
 * Test-only: the seeded reduced-Hiera SAM 2.1 fixture (`../shared/fixtures/sam2-reference/`) as a
 * samtune safetensors that carries its config (its trunk is not an official layout, so the facts
 * the shapes lack come from `manifest.models.hiera_mini.image_encoder`), and the fixture paths.
 */
import { join } from 'node:path';
import { loadSam2Checkpoint, writeSam2Safetensors } from '@samtune/sam-model';
import { sharedPath } from '@samtune/test-fixtures';

/** A file of `../shared/fixtures/sam2-reference/`. */
export const sam2Fixture = (name: string): string => sharedPath(join('fixtures', 'sam2-reference', name));

/** Writes the mini checkpoint to `<dir>/hiera_mini.safetensors` and returns its path. */
export async function writeSam2MiniCheckpoint(dir: string): Promise<string> {
  const ckpt = await loadSam2Checkpoint(sam2Fixture('sam2.1_hiera_mini_seeded.pt'), {
    facts: { numHeads: 1, globalAttBlocks: [3], windowSpec: [8, 4, 14, 7], qPool: 3 },
  });
  const path = join(dir, 'hiera_mini.safetensors');
  writeSam2Safetensors(path, ckpt.weights, ckpt.config);
  return path;
}
