/**
 * `samtune queue embed|autolabel`: the producer of the scale-out (see @samtune/jobs). One job per
 * image, keyed by image and encoder hashes; prints the queue id that `samtune queue status` and
 * `samtune queue collect` take. Workers (`samtune worker`) do the work.
 */
import type { QueueKind } from '@samtune/jobs';
import type { CliCommand } from '../command.js';
import * as common from '../common-flags.js';
import { defineCommand } from '../flags.js';
import { QUEUE_AUTOLABEL_FLAGS, QUEUE_EMBED_FLAGS } from './queue-flags.js';

function producer(kind: QueueKind): CliCommand {
  const embed = kind === 'embed';
  return defineCommand({
    path: ['queue', kind],
    summary: embed
      ? 'enqueue one embedding job per image for `samtune worker`s (BullMQ + Redis)'
      : 'enqueue one labelling job per image (its boxes/points as prompts) for `samtune worker`s',
    synopsis: `usage: samtune queue ${kind} --redis <url> --data-root <path> --out <shared dir> --checkpoint <name|path> [flags]

${
  embed
    ? `Workers write each image's embedding into --out in the embedding-cache layout, so
'samtune train --cache-dir <out>' on the same images finds the cache full.`
    : `Workers write one label file per image under <out>/labels/; 'samtune queue collect <id>' merges them
into one COCO file.`
}
Re-running the same command enqueues nothing that is done or already queued. Prints the queue id.`,
    flags: embed ? QUEUE_EMBED_FLAGS : QUEUE_AUTOLABEL_FLAGS,
    async run(f, io) {
      const { connectRedis, enqueue } = await import('@samtune/jobs');
      const { createProgressBar } = await import('../progress.js');
      const cacheDir = f['cache-dir'];
      const redis = connectRedis(common.redisUrl(f.redis));
      const bar = createProgressBar(`queue ${kind}: hashing`);
      try {
        const res = await enqueue({
          redis,
          kind,
          dataRoot: f['data-root'],
          outDir: f.out,
          checkpoint: f.checkpoint,
          attempts: f.attempts,
          prompt: f.prompt ?? 'both',
          ...(cacheDir ? { cacheDir } : {}),
          ...(f.format ? { format: f.format } : {}),
          ...(f.subset.length > 0 ? { subsets: f.subset } : {}),
          onProgress: (done, total) => bar.update(done, total),
        });
        bar.done(
          `queue ${kind}: ${res.queueId}: ${res.added} jobs added, ${res.alreadyDone} images already done, ${res.alreadyQueued} already queued (${res.total} images)`,
        );
        for (const s of res.skipped) io.err(`skipped while reading: ${s}`);
        io.out(
          f.json
            ? JSON.stringify({
                queue: res.queueId,
                total: res.total,
                added: res.added,
                alreadyDone: res.alreadyDone,
                alreadyQueued: res.alreadyQueued,
                skipped: res.skipped.length,
              })
            : res.queueId,
        );
        return 0;
      } finally {
        await redis.quit().catch(() => undefined);
      }
    },
  });
}

export const queueEmbedCommand: CliCommand = producer('embed');
export const queueAutolabelCommand: CliCommand = producer('autolabel');
