import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { floatTensor } from '@samtune/tensor';
import { writeSafetensors } from '@samtune/tensor-files';
import { EmbeddingFileError, readEmbedding, writeEmbedding } from '../sam.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-emb-file-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const t = (shape: number[], v: number) =>
  floatTensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v), shape);

describe('embedding files with the SAM 2.1 levels', () => {
  it('round-trips image_embeddings + high_res_feats.0/.1; a SAM 1 file has none', () => {
    const p = join(tmp, 'sam2.safetensors');
    const emb = { embedding: t([1, 256, 64, 64], 1), originalSize: [534, 800], inputSize: [1024, 1024] } as const;
    writeEmbedding(p, { ...emb, highResFeats: [t([1, 32, 256, 256], 2), t([1, 64, 128, 128], 3)] });
    const back = readEmbedding(p);
    expect(back.highResFeats?.map((x) => [x.shape, x.data[0]])).toEqual([
      [[1, 32, 256, 256], 2],
      [[1, 64, 128, 128], 3],
    ]);
    const p1 = join(tmp, 'sam1.safetensors');
    writeEmbedding(p1, emb);
    expect(readEmbedding(p1).highResFeats).toBeUndefined();
  });

  it('refuses a file with one level only, naming both tensors', () => {
    const p = join(tmp, 'half.safetensors');
    writeSafetensors(
      p,
      new Map([
        ['image_embeddings', t([1, 256, 64, 64], 1)],
        ['high_res_feats.0', t([1, 32, 256, 256], 2)],
      ]),
      {
        original_size: '534,800',
        input_size: '1024,1024',
      },
    );
    expect(() => readEmbedding(p)).toThrow(EmbeddingFileError);
    expect(() => readEmbedding(p)).toThrow(/expected both float32 'high_res_feats.0' and 'high_res_feats.1'/);
  });
});
