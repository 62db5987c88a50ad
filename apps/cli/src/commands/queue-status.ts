/** `samtune queue status <id>` and `samtune queue collect <id>`: progress of a queue, and its labels as COCO. */
import { Type } from 'typebox';
import * as common from '../common-flags.js';
import { defineCommand, Flag } from '../flags.js';

const redisFlag = common.redis;

export const queueStatusCommand = defineCommand({
  path: ['queue', 'status'],
  summary: 'counts, throughput and ETA of a queue, with its failed images and their reasons',
  synopsis: `usage: samtune queue status <id> --redis <url> [--watch] [--json]

Exit code 1 when some image failed.`,
  positional: 'the queue id (samtune queue status <id>)',
  flags: Type.Object({
    redis: redisFlag,
    watch: Flag.bool('redraw every 2 s until nothing is left to run'),
    json: Flag.bool(
      'print the status as JSON (counts, done, remaining, workers, imagesPerSecond, etaSeconds, failed [{jobId, imagePath, reason, attempts}])',
    ),
  }),
  async run(f, io, { positional: id }) {
    const { connectRedis, formatQueueStatus, queueStatus } = await import('@samtune/jobs');
    const redis = connectRedis(common.redisUrl(f.redis));
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
});

export const queueCollectCommand = defineCommand({
  path: ['queue', 'collect'],
  summary: "merge an autolabel queue's per-image labels into one COCO instances file",
  synopsis: `usage: samtune queue collect <id> --redis <url> --out <labels.json> [--image-root <dir>]

Prints {"out", "images", "annotations", "missing", "skipped"}; exit code 1 when images are missing
(jobs pending or failed).`,
  positional: 'the queue id (samtune queue collect <id>)',
  flags: Type.Object({
    redis: redisFlag,
    out: Flag.text(
      'the COCO file (compressed RLE masks); name it _annotations.coco.json to read it back with --data-root <its folder>',
      { placeholder: '<file>' },
    ),
    'image-root': Type.Optional(
      Flag.text('file_name is the image path relative to this folder (default: the folder of --out)', {
        placeholder: '<dir>',
      }),
    ),
  }),
  async run(f, io, { positional: id }) {
    const { collectLabels, connectRedis } = await import('@samtune/jobs');
    const out = f.out;
    const redis = connectRedis(common.redisUrl(f.redis));
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
});
