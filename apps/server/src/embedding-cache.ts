/**
 * In-memory LRU of image embeddings by id, bounded by a number of entries (an embedding is
 * `[1,256,64,64]` float32, 4 MiB; a SAM 2.1 entry also holds `highResFeats`, 12 MiB more).
 * Concurrent requests for the same id share one computation.
 */
import type { ImageEmbedding } from '@samtune/sam-model';

/** A cached embedding with what the API reports about its image. */
export interface CachedEmbedding {
  readonly id: string;
  readonly embedding: ImageEmbedding;
  /** Image name under `--images`, when it came from there. */
  readonly image?: string;
}

export class EmbeddingCache {
  private readonly entries = new Map<string, CachedEmbedding>();
  private readonly inFlight = new Map<string, Promise<CachedEmbedding>>();

  /** @param capacity most embeddings kept (>= 1); the least recently used one is dropped first. */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`EmbeddingCache(capacity): expected an integer >= 1, got ${capacity}`);
  }

  /** Embeddings held now. */
  get size(): number {
    return this.entries.size;
  }

  /** The entry for `id` (marked most recently used), or undefined. */
  get(id: string): CachedEmbedding | undefined {
    const e = this.entries.get(id);
    if (e) {
      this.entries.delete(id);
      this.entries.set(id, e);
    }
    return e;
  }

  /** Whether `id` is cached (does not change the LRU order). */
  has(id: string): boolean {
    return this.entries.has(id);
  }

  /**
   * The entry for `id`, computing it with `make` when absent; concurrent callers for one id share
   * the same `make`. A failed `make` caches nothing.
   * @returns the entry and whether it was already cached
   */
  async getOrCreate(
    id: string,
    make: () => Promise<CachedEmbedding>,
  ): Promise<{ entry: CachedEmbedding; cached: boolean }> {
    const hit = this.get(id);
    if (hit) return { entry: hit, cached: true };
    let pending = this.inFlight.get(id);
    if (!pending) {
      pending = make().then((entry) => {
        this.set(entry);
        return entry;
      });
      this.inFlight.set(id, pending);
      const clear = (): void => void this.inFlight.delete(id);
      pending.then(clear, clear);
    }
    return { entry: await pending, cached: false };
  }

  /** Stores an entry, dropping the least recently used ones beyond the capacity. */
  set(entry: CachedEmbedding): void {
    this.entries.delete(entry.id);
    this.entries.set(entry.id, entry);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
