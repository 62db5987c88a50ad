/**
 * What samtune keeps in Redis besides BullMQ's own keys (prefix `samtune`, one BullMQ queue per
 * queue id):
 * - `samtune:registry`: SET of every queue id, so `samtune worker` finds the queues without being told;
 * - `samtune:meta:<id>`: STRING, the JSON `QueueMeta` (kind, checkpoint, output folder, …) that a worker
 *   needs to run the queue's jobs anywhere;
 * - `samtune:images:<id>`: HASH job id -> JSON `ImageRecord`, every image of the queue (also those
 *   already done when it was enqueued), which `collect` and `status` read.
 */
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { PromptMode } from '@samtune/transforms';
import { QueueInputError, QueueNotFoundError } from './errors.js';
import { checkQueueMeta } from './job-schema.js';

/** BullMQ key prefix of samtune's queues. */
export const BULL_PREFIX = 'samtune';
const REGISTRY_KEY = `${BULL_PREFIX}:registry`;
const metaKey = (id: string): string => `${BULL_PREFIX}:meta:${id}`;
const imagesKey = (id: string): string => `${BULL_PREFIX}:images:${id}`;

/** The two kinds of work. */
export type QueueKind = 'embed' | 'autolabel';

/** A queue's description, written once by the producer (see the module comment). */
export interface QueueMeta {
  readonly id: string;
  readonly kind: QueueKind;
  /** `--checkpoint` as the producer resolved it: a path every worker must see, or a registry name. */
  readonly checkpoint: string;
  /** SHA-256 of the checkpoint file; a worker whose file differs refuses the queue (its jobs wait for others). */
  readonly checkpointSha256: string;
  /** `imageEncoderKey(config, weights)`: the embedding-cache key of the encoder. */
  readonly encoderKey: string;
  /** Absolute shared output folder: the embedding cache (embed) or `labels/` (autolabel). */
  readonly outDir: string;
  /** autolabel: embedding cache folder to read/fill, or undefined to embed in memory. */
  readonly cacheDir?: string;
  /** autolabel: prompt choice (`selectPrompt` mode). */
  readonly prompt?: PromptMode;
  /** autolabel: the dataset's categories, written into the collected COCO file. */
  readonly categories?: readonly { readonly id: number; readonly name: string }[];
  /** The `--data-root` the producer read (absolute). */
  readonly dataRoot: string;
  /** Attempts per job before it is failed (transient errors; bad input fails at once). */
  readonly attempts: number;
  /** ISO time of the first enqueue. */
  readonly createdAt: string;
}

/** One image of a queue (see the module comment). */
export interface ImageRecord {
  /** Order of the image in the producer's listing (0-based): `collect` keeps it. */
  readonly index: number;
  readonly imagePath: string;
  /** The file the worker writes (cache file or label file), absolute. */
  readonly outputPath: string;
  /** True when the output already existed at enqueue time (no job was added). */
  readonly doneAtEnqueue: boolean;
}

/**
 * The queue id of a piece of work: `<kind>-<12 hex>` from everything that defines its results, so
 * running the same producer command again lands in the same queue (and enqueues nothing done).
 */
export function queueIdFor(parts: {
  readonly kind: QueueKind;
  readonly encoderKey: string;
  readonly checkpointSha256: string;
  readonly outDir: string;
  readonly dataRoot: string;
  readonly prompt?: string;
}): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([parts.kind, parts.encoderKey, parts.outDir, parts.dataRoot]));
  // embeddings depend on the encoder only; labels on the whole checkpoint and the prompt rule
  if (parts.kind === 'autolabel') h.update(JSON.stringify([parts.checkpointSha256, parts.prompt ?? 'both']));
  return `${parts.kind}-${h.digest('hex').slice(0, 12)}`;
}

/**
 * An ioredis client for `url` (`redis://[:password@]host:port[/db]`, `rediss://` for TLS).
 * `role: 'worker'` retries for ever (BullMQ workers require `maxRetriesPerRequest: null` and should
 * ride out a Redis restart); `'client'` (producer, status, collect) gives up after a few seconds.
 */
export function connectRedis(url: string, role: 'worker' | 'client' = 'client'): Redis {
  if (!/^rediss?:\/\//.test(url))
    throw new QueueInputError(`connectRedis(url): expected redis://host:port or rediss://…, got '${url}'`);
  const opts: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : {
          maxRetriesPerRequest: 2,
          connectTimeout: 5000,
          retryStrategy: (n: number) => (n > 3 ? null : 250 * n),
        };
  return new Redis(url, opts);
}

/** Writes a queue's meta (first writer wins: a re-run keeps the original `createdAt`) and registers it. */
export async function registerQueue(redis: Redis, meta: QueueMeta): Promise<QueueMeta> {
  await redis.set(metaKey(meta.id), JSON.stringify(meta), 'NX');
  await redis.sadd(REGISTRY_KEY, meta.id);
  return readQueueMeta(redis, meta.id);
}

/** The meta of queue `id`; throws `QueueNotFoundError` when Redis has none. */
export async function readQueueMeta(redis: Redis, id: string): Promise<QueueMeta> {
  const raw = await redis.get(metaKey(id));
  if (raw === null) {
    const known = await redis.smembers(REGISTRY_KEY);
    throw new QueueNotFoundError(
      `readQueueMeta(id): no queue '${id}' in this Redis; known queues: ${known.length ? known.sort().join(', ') : 'none'}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new QueueInputError(`readQueueMeta(${id}): ${metaKey(id)} is not JSON (${(e as Error).message})`);
  }
  return checkQueueMeta(json, id);
}

/** Every registered queue id, sorted. */
export async function listQueueIds(redis: Redis): Promise<string[]> {
  return (await redis.smembers(REGISTRY_KEY)).sort();
}

/** Stores image records (job id -> record), in chunks of one HSET each. */
export async function writeImageRecords(
  redis: Redis,
  id: string,
  records: ReadonlyMap<string, ImageRecord>,
): Promise<void> {
  const entries = [...records.entries()];
  for (let i = 0; i < entries.length; i += 1000) {
    const flat = entries.slice(i, i + 1000).flatMap(([k, v]) => [k, JSON.stringify(v)]);
    if (flat.length) await redis.hset(imagesKey(id), ...flat);
  }
}

/** Every image record of a queue, sorted by `index`. */
export async function readImageRecords(redis: Redis, id: string): Promise<(ImageRecord & { jobId: string })[]> {
  const out: (ImageRecord & { jobId: string })[] = [];
  let cursor = '0';
  do {
    const [next, flat] = await redis.hscan(imagesKey(id), cursor, 'COUNT', 1000);
    cursor = next;
    for (let i = 0; i + 1 < flat.length; i += 2)
      out.push({ jobId: flat[i] as string, ...(JSON.parse(flat[i + 1] as string) as ImageRecord) });
  } while (cursor !== '0');
  return out.sort((a, b) => a.index - b.index);
}
