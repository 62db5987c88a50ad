import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { floatTensor, initWeightsFromShapes, expectedShapes, SAM_PRESETS } from '@samtune/sam-model';
import type { FloatTensor } from '@samtune/sam-model';
import { EmbeddingCache, imageEncoderKey, type ImageEmbedder } from './embedding-cache.js';
import { repoPath } from './test-utils/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-cache-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Fake encoder: counts calls; the embedding is filled with the input's sum (so it depends on the image). */
class CountingEmbedder implements ImageEmbedder {
  calls = 0;
  async embed(images: Float32Array): Promise<FloatTensor> {
    this.calls++;
    let s = 0;
    for (let i = 0; i < images.length; i += 97) s += images[i] as number;
    return floatTensor(new Float32Array(256 * 64 * 64).fill(s), [1, 256, 64, 64]);
  }
}

const images = readdirSync(repoPath('examples/plant-mini/valid'))
  .filter((f) => f.endsWith('.jpg'))
  .slice(0, 2)
  .map((f) => join(repoPath('examples/plant-mini/valid'), f));

describe('embedding cache', () => {
  it('embeds each image once, reuses it across instances and reports progress with an ETA', async () => {
    const dir = join(tmp, 'a');
    const enc = new CountingEmbedder();
    let factoryCalls = 0;
    const cache = new EmbeddingCache({ dir, encoderKey: 'k1', embedder: async () => (factoryCalls++, enc) });
    const progress: [number, number, number][] = [];
    const first = await cache.fill([...images, images[0] as string], (p) =>
      progress.push([p.done, p.total, p.computed]),
    );
    expect(first).toMatchObject({ total: 2, computed: 2, hits: 0 });
    expect(progress).toEqual([
      [1, 2, 1],
      [2, 2, 2],
    ]);
    expect(enc.calls).toBe(2);
    const again = new EmbeddingCache({ dir, encoderKey: 'k1', embedder: async () => (factoryCalls++, enc) });
    expect(await again.fill(images)).toMatchObject({ total: 2, computed: 0, hits: 2 });
    expect(factoryCalls).toBe(1); // the encoder is never built when everything is cached
    const e = await again.get(images[0] as string);
    expect(e.hit).toBe(true);
    expect(e.embedding.shape).toEqual([1, 256, 64, 64]);
    expect(e.originalSize).toEqual([384, 512]);
    expect(e.inputSize).toEqual([768, 1024]);
    // Another encoder key is another cache entry.
    const other = new EmbeddingCache({ dir, encoderKey: 'k2', embedder: enc });
    expect(await other.fill(images)).toMatchObject({ computed: 2, hits: 0 });
    expect(readdirSync(dir).filter((f) => f.endsWith('.safetensors'))).toHaveLength(4);
  });

  it('treats a truncated or foreign file as a miss and rewrites it; keys follow image content, not path', async () => {
    const dir = join(tmp, 'b');
    const enc = new CountingEmbedder();
    const cache = new EmbeddingCache({ dir, encoderKey: 'k', embedder: enc });
    const img = images[0] as string;
    const key = await cache.keyFor(img);
    mkdirSync(dir, { recursive: true });
    writeFileSync(cache.pathFor(key), Buffer.from([1, 2, 3])); // a half-written file
    expect(cache.read(key)).toBeUndefined();
    expect(await cache.fill([img])).toMatchObject({ computed: 1, hits: 0 });
    expect(cache.read(key)?.embedding.shape).toEqual([1, 256, 64, 64]);
    const copy = join(tmp, 'copy.jpg');
    copyFileSync(img, copy);
    expect(await cache.keyFor(copy)).toBe(key);
    expect((await cache.get(copy)).hit).toBe(true);
  });

  it('keys the encoder by its weights: same for equal weights, different after a change', () => {
    const config = SAM_PRESETS.tiny_vit;
    const w = initWeightsFromShapes(expectedShapes(config), 1);
    const k = imageEncoderKey(config, w);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    const decoderChanged = new Map(w);
    const dk = [...w.keys()].find((x) => x.startsWith('mask_decoder.')) as string;
    decoderChanged.set(dk, floatTensor(new Float32Array(w.get(dk)?.data.length ?? 0), w.get(dk)?.shape ?? []));
    expect(imageEncoderKey(config, decoderChanged)).toBe(k);
    const encoderChanged = new Map(w);
    const ek = [...w.keys()].find((x) => x.startsWith('image_encoder.neck.')) as string;
    encoderChanged.set(ek, floatTensor(new Float32Array(w.get(ek)?.data.length ?? 0), w.get(ek)?.shape ?? []));
    expect(imageEncoderKey(config, encoderChanged)).not.toBe(k);
  });
});
