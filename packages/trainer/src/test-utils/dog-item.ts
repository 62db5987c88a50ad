/**
 * Test-only: one training item the size of dog.jpg (534x800) with two rectangle instances, and an
 * embedding cache that answers every image with dog.jpg's embedding (tinyvit_outputs.safetensors).
 */
import type { EmbeddingCache } from '@samtune/evaluation';
import type { TrainItem } from '@samtune/training-data';
import type { FloatTensor } from '@samtune/sam-model';
import { fixtureTensor, readFixture } from './fixtures.js';

export const [DOG_H, DOG_W] = [534, 800];

function rectMask(x0: number, y0: number, x1: number, y1: number) {
  const data = new Uint8Array(DOG_H * DOG_W);
  for (let y = y0; y < y1; y++) data.fill(1, y * DOG_W + x0, y * DOG_W + x1);
  return { width: DOG_W, height: DOG_H, data };
}

/** The item (instances `a` and `b`). */
export const DOG_ITEM: TrainItem = {
  id: 'dog',
  imagePath: '/virtual/dog.jpg',
  width: DOG_W,
  height: DOG_H,
  instances: [
    { id: 'a', mask: () => rectMask(120, 80, 420, 400) },
    { id: 'b', mask: () => rectMask(500, 100, 760, 300) },
  ],
};

/** A cache whose `get` returns dog.jpg's embedding at (534,800). */
export function dogEmbeddingCache(): EmbeddingCache {
  const embedding: FloatTensor = fixtureTensor(
    readFixture('tinyvit_outputs.safetensors'),
    'tinyvit_outputs.safetensors',
    'dog.image_embeddings',
  );
  return { get: async () => ({ embedding, originalSize: [DOG_H, DOG_W] as const }) } as unknown as EmbeddingCache;
}
