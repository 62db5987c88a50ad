/**
 * The embedding cache with SAM 2.1 features: keys with SAM 2.1's pre-processing version, files with
 * `image_embeddings` + `high_res_feats.0/.1`, computed by the real reduced-Hiera encoder on
 * onnxruntime; SAM 1 entries of the same encoder key stay separate and unchanged.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Sam2EncoderSession,
  floatTensor,
  loadSam2Checkpoint,
  readEmbedding,
  writeEmbedding,
  type LoadedSam2Checkpoint,
} from '@samtune/sam-model';
import { readSafetensors } from '@samtune/tensor-files';
import type { FloatTensor } from '@samtune/sam-model';
import { EmbeddingCache, PREPROCESS_VERSION, imageEncoderKey, type ImageEmbedder } from './embedding-cache.js';
import { repoPath, sharedPath } from './test-utils/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-cache-sam2-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const image = join(
  repoPath('examples/plant-mini/valid'),
  readdirSync(repoPath('examples/plant-mini/valid')).find((f) => f.endsWith('.jpg'))!,
);
const facts = { numHeads: 1, globalAttBlocks: [3], windowSpec: [8, 4, 14, 7], qPool: 3 };

class Sam1Fake implements ImageEmbedder {
  async embed(): Promise<FloatTensor> {
    return floatTensor(new Float32Array(256 * 64 * 64).fill(1), [1, 256, 64, 64]);
  }
}

describe('embedding cache, family sam2', () => {
  let ckpt: LoadedSam2Checkpoint;
  let session: Sam2EncoderSession;
  let calls = 0;
  beforeAll(async () => {
    ckpt = await loadSam2Checkpoint(sharedPath('fixtures/sam2-reference/sam2.1_hiera_mini_seeded.pt'), { facts });
    session = await Sam2EncoderSession.create(ckpt.config.imageEncoder, ckpt.weights);
  });
  afterAll(async () => {
    await session.release();
  });

  it('stores and returns the 64x64 embedding and both high-res levels; a second cache reads them back', async () => {
    const dir = join(tmp, 'a');
    const encoderKey = imageEncoderKey(ckpt.config, ckpt.weights);
    const counting = { embed: (x: Float32Array) => (calls++, session.embed(x)) };
    const cache = new EmbeddingCache({ dir, encoderKey, embedder: counting, family: 'sam2' });
    const first = await cache.get(image);
    expect(first.hit).toBe(false);
    expect(first.embedding.shape).toEqual([1, 256, 64, 64]);
    expect(first.highResFeats?.map((t) => t.shape)).toEqual([
      [1, 32, 256, 256],
      [1, 64, 128, 128],
    ]);
    expect(first.inputSize).toEqual([1024, 1024]); // stretched, no padding
    const file = readSafetensors(first.path);
    expect([...file.tensors.keys()].sort()).toEqual(['high_res_feats.0', 'high_res_feats.1', 'image_embeddings']);
    expect(file.metadata['samtune.embedding.family']).toBe('sam2');
    // an embedding file (`samtune embed`: writeEmbedding/readEmbedding) carries the levels too
    const embFile = join(tmp, 'dog.emb.safetensors');
    writeEmbedding(embFile, first);
    const back = readEmbedding(embFile);
    expect(back.highResFeats?.[1].data).toEqual(first.highResFeats?.[1].data);
    expect(back.inputSize).toEqual([1024, 1024]);

    const again = new EmbeddingCache({ dir, encoderKey, embedder: counting, family: 'sam2' });
    const hit = await again.get(image);
    expect(hit.hit).toBe(true);
    expect(hit.highResFeats?.[0].data).toEqual(first.highResFeats?.[0].data);
    expect(calls).toBe(1);

    // Same encoder key, SAM 1 family: another key (pre-processing version), a SAM 1 entry without levels.
    const sam1 = new EmbeddingCache({ dir, encoderKey, embedder: new Sam1Fake() });
    expect(await sam1.keyFor(image)).not.toBe(await cache.keyFor(image));
    const imageSha = createHash('sha256').update(readFileSync(image)).digest('hex');
    const sam1Key = createHash('sha256').update(`${encoderKey}|${imageSha}|${PREPROCESS_VERSION}`).digest('hex');
    expect(await sam1.keyFor(image)).toBe(sam1Key); // the SAM 1 key rule, unchanged
    const e1 = await sam1.get(image);
    expect(e1.highResFeats).toBeUndefined();
    expect(readSafetensors(e1.path).tensors.size).toBe(1);
    expect(readSafetensors(e1.path).metadata['samtune.embedding.family']).toBeUndefined();
  });

  it('refuses an encoder of the other family with a named error', async () => {
    const cache = new EmbeddingCache({
      dir: join(tmp, 'b'),
      encoderKey: 'k',
      embedder: new Sam1Fake(),
      family: 'sam2',
    });
    await expect(cache.get(image)).rejects.toThrow(
      /the cache's family is 'sam2' but the encoder returned a SAM 1 embedding/,
    );
  });

  it('keys the SAM 2.1 encoder by image_encoder.*, conv_s0/conv_s1 and no_mem_embed, not the rest of the decoder', () => {
    const k = imageEncoderKey(ckpt.config, ckpt.weights);
    const zeroed = (key: string) => {
      const w = new Map(ckpt.weights);
      const t = w.get(key)!;
      w.set(key, floatTensor(new Float32Array(t.data.length), t.shape));
      return imageEncoderKey(ckpt.config, w);
    };
    expect(zeroed('sam_mask_decoder.iou_token.weight')).toBe(k);
    expect(zeroed('sam_mask_decoder.conv_s0.weight')).not.toBe(k);
    expect(zeroed('no_mem_embed')).not.toBe(k);
    expect(zeroed('image_encoder.neck.convs.0.conv.bias')).not.toBe(k);
  });
});
