import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { floatTensor, type WeightMap } from '@samtune/tensor';
import { readTorchCheckpoint, writeSafetensors } from '@samtune/tensor-files';
import { Sam2CheckpointKeysError, isSam2ImageModeKey, loadSam2Checkpoint } from './checkpoint.js';
import { UnknownHieraLayoutError } from './config.js';
import { SAM2_MINI_CHECKPOINT, miniHieraFacts, sam2ReferencePath } from './test-utils/sam2-fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'samtune-sam2-ckpt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fixture = (): string => sam2ReferencePath(SAM2_MINI_CHECKPOINT);

describe('loadSam2Checkpoint', () => {
  it('the reduced trunk is not an official layout: a named error without its facts', async () => {
    await expect(loadSam2Checkpoint(fixture())).rejects.toThrow(UnknownHieraLayoutError);
  });

  it('infers the reduced trunk from shapes plus the manifest facts', async () => {
    const { config } = await loadSam2Checkpoint(fixture(), { facts: miniHieraFacts() });
    expect(config.imageEncoder).toMatchObject({
      embedDim: 32,
      stages: [1, 1, 2, 1],
      numHeads: 1,
      globalAttBlocks: [3],
      windowSpec: [8, 4, 14, 7],
      windowPosEmbedBkgSpatialSize: [14, 14],
      backboneChannelList: [256, 128, 64, 32],
      dModel: 256,
    });
  });

  it('reads a safetensors copy; lists every mis-shaped or missing encoder tensor in one error', async () => {
    const all = readTorchCheckpoint(fixture());
    const bad: WeightMap = new Map([...all].filter(([k]) => isSam2ImageModeKey(k)));
    bad.set('image_encoder.trunk.blocks.2.attn.qkv.weight', floatTensor(new Float32Array(10 * 64), [10, 64]));
    bad.delete('sam_mask_decoder.conv_s1.bias');
    const path = join(root, 'bad.safetensors');
    writeSafetensors(path, bad);
    const err = await loadSam2Checkpoint(path, { facts: miniHieraFacts() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Sam2CheckpointKeysError);
    expect((err as Error).message).toContain(
      "'image_encoder.trunk.blocks.2.attn.qkv.weight' has shape [10,64], expected [384,64]",
    );
    expect((err as Error).message).toContain("missing 'sam_mask_decoder.conv_s1.bias' (expected [64])");
  });

  it('keeps the image-mode keys only', () => {
    expect(isSam2ImageModeKey('no_mem_embed')).toBe(true);
    expect(isSam2ImageModeKey('sam_prompt_encoder.not_a_point_embed.weight')).toBe(true);
    for (const k of ['no_mem_pos_enc', 'no_obj_ptr', 'maskmem_tpos_enc', 'memory_encoder.out_proj.weight'])
      expect(isSam2ImageModeKey(k)).toBe(false);
  });
});
