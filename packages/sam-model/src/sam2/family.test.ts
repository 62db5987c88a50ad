import { describe, expect, it } from 'vitest';
import { readTorchCheckpoint, readTorchCheckpointShapes } from '../checkpoint/torch.js';
import { referencePath } from '../test-utils/fixtures.js';
import { loadSamCheckpoint } from '../checkpoint/load.js';
import { Sam2CheckpointForSam1Error } from './config.js';
import { checkpointFamily } from './family.js';
import { SAM2_MINI_CHECKPOINT, sam2ReferencePath } from './test-utils/sam2-fixtures.js';

describe('checkpointFamily', () => {
  it('tells SAM 2.1 from SAM 1 files by their keys, and registry names by their entry', () => {
    expect(checkpointFamily(sam2ReferencePath(SAM2_MINI_CHECKPOINT))).toBe('sam2');
    expect(checkpointFamily(referencePath('tinyvit.pth'))).toBe('sam');
    expect(checkpointFamily('sam2.1_hiera_large')).toBe('sam2');
    expect(checkpointFamily('vit_b')).toBe('sam');
  });
});

describe('readTorchCheckpointShapes', () => {
  it('gives every key and shape of readTorchCheckpoint from the pickle alone', () => {
    const path = sam2ReferencePath(SAM2_MINI_CHECKPOINT);
    const shapes = readTorchCheckpointShapes(path);
    const full = readTorchCheckpoint(path);
    expect([...shapes.keys()]).toEqual([...full.keys()]);
    for (const [k, t] of full) expect(shapes.get(k)).toEqual(t.shape);
  });
});

describe('loadSamCheckpoint (SAM 1) on a SAM 2.1 file', () => {
  it('names the family and the loader to use', async () => {
    const err = await loadSamCheckpoint(sam2ReferencePath(SAM2_MINI_CHECKPOINT)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Sam2CheckpointForSam1Error);
    expect((err as Error).message).toMatch(/got a SAM 2.1 one .* load it with loadSam2Checkpoint/);
  });
});
