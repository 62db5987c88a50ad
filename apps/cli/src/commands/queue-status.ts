/** `samtune queue status <id>` and `samtune queue collect <id>`: progress of a queue, and its labels as COCO. */
import { collectLabels, connectRedis, formatQueueStatus, queueStatus } from '@samtune/jobs';
import { parseFlags, redisUrl, required } from '../args.js';
import { UsageError, type CliCommand } from '../command.js';

/** `<id> [flags]`: the queue id is the one positional argument, first. */
function splitId(argv: string[], usage: string): [string, string[]] {
  const [id, ...rest] = argv;
  if (!id || id.startsWith('-')) throw new UsageError(`missing the queue id (${usage})`);
  return [id, rest];
}

export const queueStatusCommand: CliCommand = {
  path: ['queue', 'status'],
  summary: 'counts, throughput and ETA of a queue, with its failed images and their reasons',
  usage: `usage: samtune queue status <id> --redis <url> [--watch] [--json]

  --redis <url>   the Redis of the queue (default $SAMTUNE_REDIS_URL)
  --watch         redraw every 2 s until nothing is left to run
  --json          print the status as JSON (counts, done, remaining, workers, imagesPerSecond,
                  etaSeconds, failed [{jobId, imagePath, reason, attempts}])
  Exit code 1 when some image failed.`,
  async run(argv, io) {
    const [id, rest] = splitId(argv, 'samtune queue status <id>');
    const f = parseFlags(rest, { redis: { type: 'string' }, watch: { type: 'boolean' }, json: { type: 'boolean' } });
    const redis = connectRedis(redisUrl(f.redis));
    try {
      for (;;) {
        const s = await queueStatus(redis, id);
        if (f.json) io.out(JSON.stringify(s));
        else io.out(formatQueueStatus(s));
        if (!f.watch || s.remaining === 0) return s.counts.failed > 0 ? 1 : 0;
        await new Promise((r) => setTimeout(r, 2000));
      }
    } finally {
      await redis.quit().catch(() => undefined);
    }
  },
};

export const queueCollectCommand: CliCommand = {
  path: ['queue', 'collect'],
  summary: "merge an autolabel queue's per-image labels into one COCO instances file",
  usage: `usage: samtune queue collect <id> --redis <url> --out <labels.json> [--image-root <dir>]

  --out <file>          the COCO file (compressed RLE masks); name it _annotations.coco.json to read it
                        back with --data-root <its folder>
  --image-root <dir>    file_name is the image path relative to this folder (default: the folder of --out)
  Prints {"out", "images", "annotations", "missing", "skipped"}; exit code 1 when images are missing
  (jobs pending or failed).`,
  async run(argv, io) {
    const [id, rest] = splitId(argv, 'samtune queue collect <id>');
    const f = parseFlags(rest, {
      redis: { type: 'string' },
      out: { type: 'string' },
      'image-root': { type: 'string' },
    });
    const out = required(f.out, 'out');
    const redis = connectRedis(redisUrl(f.redis));
    try {
      const res = await collectLabels(redis, id, out, f['image-root'] ? { imageRoot: f['image-root'] } : {});
      for (const m of res.missing) io.err(`missing (pending or failed): ${m}`);
      for (const s of res.skipped) io.err(`no label: ${s}`);
      io.out(
        JSON.stringify({
          out: res.out,
          images: res.images,
          annotations: res.annotations,
          missing: res.missing.length,
          skipped: res.skipped.length,
        }),
      );
      return res.missing.length > 0 ? 1 : 0;
    } finally {
      await redis.quit().catch(() => undefined);
    }
  },
};
