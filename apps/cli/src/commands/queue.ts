/**
 * `samtune queue embed|autolabel`: the producer of the scale-out (see @samtune/jobs). One job per
 * image, keyed by image and encoder hashes; prints the queue id that `samtune queue status` and
 * `samtune queue collect` take. Workers (`samtune worker`) do the work.
 */
import { connectRedis, enqueue, type QueueKind } from '@samtune/jobs';
import type { PromptMode } from '@samtune/transforms';
import { parseFlags, redisUrl as redisUrlFlag, required } from '../args.js';
import { UsageError, type CliCommand } from '../command.js';
import { createProgressBar } from '../progress.js';

const MODES: readonly PromptMode[] = ['box', 'points', 'both'];

const COMMON = `  --redis <url>        redis://[:password@]host:port (every worker uses the same Redis; default
                       $SAMTUNE_REDIS_URL, which keeps a password out of the process list)
  --data-root <path>   a dataset folder (COCO, VOC, CSS, Datumaro), a _annotations.coco.json, or (embed)
                       a folder of images (recursive)
  --out <dir>          SHARED output folder that every worker sees at this same path (NFS/EFS mount,
                       or a bucket mounted as a folder)
  --checkpoint <p>     tiny_vit | vit_b | vit_l | vit_h or a .pth/.safetensors path every worker sees
  --format <name>      dataset format (default: detected)
  --subset <name>      only this subset (repeatable; default all)
  --attempts <n>       attempts per job for transient errors (default 3; bad input fails at once)
  --json               print {"queue", "total", "added", "alreadyDone", "alreadyQueued", "skipped"}`;

function producer(kind: QueueKind): CliCommand {
  const embed = kind === 'embed';
  return {
    path: ['queue', kind],
    summary: embed
      ? 'enqueue one embedding job per image for `samtune worker`s (BullMQ + Redis)'
      : 'enqueue one labelling job per image (its boxes/points as prompts) for `samtune worker`s',
    usage: `usage: samtune queue ${kind} --redis <url> --data-root <path> --out <shared dir> --checkpoint <name|path>
       [--format <name>] [--subset <name>]... [--attempts <n>]${embed ? '' : ' [--cache-dir <dir>] [--prompt both|box|points]'} [--json]

${
  embed
    ? `  Workers write each image's embedding into --out in the embedding-cache layout, so
  'samtune train --cache-dir <out>' on the same images finds the cache full.`
    : `  Workers write one label file per image under <out>/labels/; 'samtune queue collect <id>' merges them
  into one COCO file.`
}
  Re-running the same command enqueues nothing that is done or already queued. Prints the queue id.

${COMMON}${
      embed
        ? ''
        : `
  --cache-dir <dir>    embedding cache to reuse and fill (e.g. the --out of 'queue embed'); default: none
  --prompt <mode>      both (default): the box when an instance has one, else its points`
    }`,
    async run(argv, io) {
      const f = parseFlags(argv, {
        redis: { type: 'string' },
        'data-root': { type: 'string' },
        out: { type: 'string' },
        checkpoint: { type: 'string' },
        format: { type: 'string' },
        subset: { type: 'string', multiple: true },
        attempts: { type: 'string' },
        json: { type: 'boolean' },
        ...(embed ? {} : { 'cache-dir': { type: 'string' as const }, prompt: { type: 'string' as const } }),
      });
      const redisUrl = redisUrlFlag(f.redis);
      const dataRoot = required(f['data-root'], 'data-root');
      const outDir = required(f.out, 'out');
      const checkpoint = required(f.checkpoint, 'checkpoint');
      const attempts = Number(f.attempts ?? 3);
      if (!Number.isInteger(attempts) || attempts < 1)
        throw new UsageError(`--attempts '${f.attempts}': expected an integer >= 1`);
      const prompt = ((f as { prompt?: string }).prompt ?? 'both') as PromptMode;
      if (!MODES.includes(prompt)) throw new UsageError(`--prompt '${prompt}': expected one of ${MODES.join(', ')}`);
      const cacheDir = (f as { 'cache-dir'?: string })['cache-dir'];
      const redis = connectRedis(redisUrl);
      const bar = createProgressBar(`queue ${kind}: hashing`);
      try {
        const res = await enqueue({
          redis,
          kind,
          dataRoot,
          outDir,
          checkpoint,
          attempts,
          prompt,
          ...(cacheDir ? { cacheDir } : {}),
          ...(f.format ? { format: f.format } : {}),
          ...(f.subset ? { subsets: f.subset } : {}),
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
  };
}

export const queueEmbedCommand: CliCommand = producer('embed');
export const queueAutolabelCommand: CliCommand = producer('autolabel');
