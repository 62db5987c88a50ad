/**
 * `samtune embed` on a SAM 2.1 checkpoint: the seeded reduced-Hiera fixture written as a samtune
 * safetensors (its config in the metadata, since its trunk is not an official layout), embedded from
 * the CLI, compared with the official features: image_embeddings and both high-res levels.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  UnknownHieraLayoutError,
  compareTensors,
  loadSam2Checkpoint,
  readEmbedding,
  writeSam2Safetensors,
  type FloatTensor,
} from '@samtune/sam-model';
import { readSafetensors } from '@samtune/tensor-files';
import { sharedPath } from '@samtune/test-fixtures';
import { afterAll, describe, expect, it } from 'vitest';
import { recordingIO, referencePath } from '../test-utils/io.js';
import { embedCommand } from './embed.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-cli-sam2-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixture = (name: string): string => sharedPath(join('fixtures', 'sam2-reference', name));

describe('samtune embed (SAM 2.1)', () => {
  it('writes image_embeddings + high_res_feats.0/.1 that match the official SAM 2.1 features', async () => {
    const ckpt = await loadSam2Checkpoint(fixture('sam2.1_hiera_mini_seeded.pt'), {
      facts: { numHeads: 1, globalAttBlocks: [3], windowSpec: [8, 4, 14, 7], qPool: 3 },
    });
    const weights = join(dir, 'hiera_mini.safetensors');
    writeSam2Safetensors(weights, ckpt.weights, ckpt.config);
    const io = recordingIO();
    const out = join(dir, 'dog.safetensors');
    const code = await embedCommand.run(
      ['--checkpoint', weights, '--image', referencePath('dog.jpg'), '--out', out],
      io,
    );
    expect(code).toBe(0);
    expect(io.stderr.join('\n')).toContain('model: custom (hiera)');
    const emb = readEmbedding(out);
    expect(emb.originalSize).toEqual([534, 800]);
    expect(emb.inputSize).toEqual([1024, 1024]);
    const ref = readSafetensors(fixture('hiera_mini_outputs.safetensors')).tensors as Map<string, FloatTensor>;
    expect(compareTensors(emb.embedding, ref.get('dog.image_embeddings')!).ok).toBe(true);
    expect(compareTensors(emb.highResFeats![0], ref.get('dog.high_res_feats.0')!).ok).toBe(true);
    expect(compareTensors(emb.highResFeats![1], ref.get('dog.high_res_feats.1')!).ok).toBe(true);
  });

  it('the official-format file of a non-official trunk: a named error', async () => {
    await expect(
      embedCommand.run(
        [
          '--checkpoint',
          fixture('sam2.1_hiera_mini_seeded.pt'),
          '--image',
          referencePath('dog.jpg'),
          '--out',
          join(dir, 'x.safetensors'),
        ],
        recordingIO(),
      ),
    ).rejects.toThrow(UnknownHieraLayoutError);
  });
});
