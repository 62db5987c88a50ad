/**
 * The producer: one BullMQ job per image of a data root, keyed by the image's content hash and the
 * encoder's hash (`<image sha256>-<encoder key[0:16]>`, plus a prompt hash for autolabel), so a
 * re-run adds nothing that is done (output file present) or already queued (same job id).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { EmbeddingCache, imageEncoderKey } from '@samtune/evaluation';
import { checkpointFamily, loadSam2Checkpoint, loadSamCheckpoint } from '@samtune/sam-model';
import type { PromptMode } from '@samtune/transforms';
import { QueueInputError } from './errors.js';
import { listSourceImages } from './images.js';
import type { AutolabelJobData, EmbedJobData } from './job-data.js';
import {
  BULL_PREFIX,
  queueIdFor,
  registerQueue,
  writeImageRecords,
  type ImageRecord,
  type QueueKind,
  type QueueMeta,
} from './queue-store.js';

export interface EnqueueOptions {
  readonly redis: Redis;
  readonly kind: QueueKind;
  /** Dataset folder, image folder (embed only) or `_annotations.coco.json`. */
  readonly dataRoot: string;
  /** Shared output folder: the embedding cache (embed) or the labels folder (autolabel). */
  readonly outDir: string;
  /** Registry name or path, SAM 1 or SAM 2.1 (`checkpointFamily`); every worker must see the same path. */
  readonly checkpoint: string;
  readonly format?: string;
  readonly subsets?: readonly string[];
  /** autolabel: an embedding cache to reuse/fill (e.g. the one `queue embed` filled). */
  readonly cacheDir?: string;
  /** autolabel prompt rule (default `both`). */
  readonly prompt?: PromptMode;
  /** Attempts per job (default 3); backoff is exponential from `backoffMs` (default 2000). */
  readonly attempts?: number;
  readonly backoffMs?: number;
  /** Called while hashing images: `(done, total)`. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface EnqueueResult {
  readonly queueId: string;
  /** Images of the data root. */
  readonly total: number;
  /** Jobs added now. */
  readonly added: number;
  /** Images whose output already existed: no job. */
  readonly alreadyDone: number;
  /** Images whose job was already in the queue (any state): not added again. */
  readonly alreadyQueued: number;
  /** What the dataset reader skipped (bad annotations, unreadable images), with the reason. */
  readonly skipped: readonly string[];
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Enqueues every image of `opts.dataRoot` (see the module comment). */
export async function enqueue(opts: EnqueueOptions): Promise<EnqueueResult> {
  const attempts = opts.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1)
    throw new QueueInputError(`enqueue(opts.attempts): expected an integer >= 1, got ${attempts}`);
  const listing = await listSourceImages(opts.dataRoot, {
    requireDataset: opts.kind === 'autolabel',
    ...(opts.format ? { format: opts.format } : {}),
    ...(opts.subsets ? { subsets: opts.subsets } : {}),
  });
  if (listing.images.length === 0) throw new QueueInputError(`enqueue(dataRoot): no images in ${listing.root}`);
  const family = checkpointFamily(opts.checkpoint);
  const ckpt = family === 'sam2' ? await loadSam2Checkpoint(opts.checkpoint) : await loadSamCheckpoint(opts.checkpoint);
  const encoderKey = imageEncoderKey(ckpt.config, ckpt.weights);
  const outDir = resolve(opts.outDir);
  const prompt = opts.prompt ?? 'both';
  const queueId = queueIdFor({
    kind: opts.kind,
    encoderKey,
    checkpointSha256: ckpt.sha256,
    outDir,
    dataRoot: listing.root,
    prompt,
  });
  const cacheDir = opts.kind === 'embed' ? outDir : opts.cacheDir ? resolve(opts.cacheDir) : undefined;
  const meta: QueueMeta = {
    id: queueId,
    kind: opts.kind,
    checkpoint: existsSync(opts.checkpoint) ? resolve(opts.checkpoint) : opts.checkpoint,
    checkpointSha256: ckpt.sha256,
    encoderKey,
    outDir,
    ...(cacheDir ? { cacheDir } : {}),
    ...(opts.kind === 'autolabel'
      ? { prompt, categories: (listing.dataset?.labels ?? []).map((l) => ({ id: l.id, name: l.name })) }
      : {}),
    dataRoot: listing.root,
    attempts,
    createdAt: new Date().toISOString(),
  };
  await registerQueue(opts.redis, meta);

  // keys only: the embedder is never built here
  const cache = new EmbeddingCache({
    dir: cacheDir ?? join(outDir, 'embeddings'),
    encoderKey,
    family, // SAM 2.1: the key's pre-processing version differs (its files also carry the high-res levels)
    embedder: () => Promise.reject(new Error('enqueue(): the producer does not embed')),
  });
  const queue = new Queue(queueId, { connection: opts.redis, prefix: BULL_PREFIX });
  try {
    const records = new Map<string, ImageRecord>();
    const todo: { name: string; data: EmbedJobData | AutolabelJobData; jobId: string }[] = [];
    let alreadyDone = 0;
    for (const [index, img] of listing.images.entries()) {
      const imageSha256 = await cache.imageSha256(img.imagePath);
      const cacheKey = await cache.keyFor(img.imagePath);
      let jobId = `${imageSha256}-${encoderKey.slice(0, 16)}`;
      let data: EmbedJobData | AutolabelJobData;
      if (opts.kind === 'embed') {
        data = { imagePath: img.imagePath, imageSha256, cacheKey, outputPath: cache.pathFor(cacheKey) };
      } else {
        jobId += `-${sha(JSON.stringify([prompt, img.prompts])).slice(0, 8)}`;
        const outputPath = join(outDir, 'labels', `${jobId}.json`);
        data = { imagePath: img.imagePath, imageSha256, cacheKey, outputPath, prompt, prompts: img.prompts };
      }
      if (records.has(jobId)) continue; // the same bytes twice under two names: one job
      const doneAtEnqueue = existsSync(data.outputPath);
      records.set(jobId, { index, imagePath: img.imagePath, outputPath: data.outputPath, doneAtEnqueue });
      if (doneAtEnqueue) alreadyDone++;
      else todo.push({ name: opts.kind, data, jobId });
      opts.onProgress?.(index + 1, listing.images.length);
    }
    await writeImageRecords(opts.redis, queueId, records);

    let alreadyQueued = 0;
    const fresh: typeof todo = [];
    for (let i = 0; i < todo.length; i += 500) {
      const chunk = todo.slice(i, i + 500);
      const pipe = opts.redis.pipeline();
      for (const t of chunk) pipe.exists(queue.toKey(t.jobId));
      const res = (await pipe.exec()) ?? [];
      chunk.forEach((t, k) => (res[k]?.[1] === 1 ? alreadyQueued++ : fresh.push(t)));
    }
    for (let i = 0; i < fresh.length; i += 500) {
      await queue.addBulk(
        fresh.slice(i, i + 500).map((t) => ({
          name: t.name,
          data: t.data,
          opts: {
            jobId: t.jobId,
            attempts,
            backoff: { type: 'exponential', delay: opts.backoffMs ?? 2000 },
            removeOnComplete: false,
            removeOnFail: false,
          },
        })),
      );
    }
    return {
      queueId,
      total: records.size,
      added: fresh.length,
      alreadyDone,
      alreadyQueued,
      skipped: listing.skipped,
    };
  } finally {
    await queue.close();
  }
}
