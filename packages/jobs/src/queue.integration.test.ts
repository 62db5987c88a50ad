/**
 * End to end on a real Redis (Debian's redis-server on a loopback port) with real worker processes:
 * 1. embed 8 of plant-seg-coco/valid's 17 photos (59 of its 104 boxes: enough for two
 *    workers, a kill mid-job and its retry) with 2 workers, one killed with SIGKILL mid-job: every
 *    image is embedded by exactly one completed job, into a valid cache file that the trainer's
 *    `EmbeddingCache` finds (nothing left to compute); a re-run enqueues nothing;
 * 2. the same for autolabel with the valid split's boxes: the collected COCO file reads back with one
 *    label per prompt;
 * 3. a bad image ends in `failed` with its reason after one attempt, and the rest completes;
 * and a worker closes gracefully on SIGTERM.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { loadDataset } from '@samtune/datasets';
import { EmbeddingCache, imageEncoderKey } from '@samtune/evaluation';
import { floatTensor, loadSamCheckpoint, writeSamSafetensors } from '@samtune/sam-model';
import { referencePath, sharedPath } from '@samtune/test-fixtures';
import {
  BULL_PREFIX,
  collectLabels,
  connectRedis,
  enqueue,
  formatQueueStatus,
  readImageRecords,
  type JobResult,
  type QueueStatus,
  type WorkerEvent,
} from './index.js';
import { untilDrained as drained } from './test-utils/drained.js';
import { startTestRedis, type TestRedis } from './test-utils/redis-server.js';
import { spawnWorker, type WorkerProcess } from './test-utils/worker-process.js';

const SOURCE = sharedPath('datasets/plant-seg-coco/valid');
/** Photos of SOURCE copied (with their COCO annotations) into the data root the queues run on. */
const PHOTOS = 8;
let VALID: string;
const TRAIN = sharedPath('datasets/plant-seg-coco/train');
const CHECKPOINT = referencePath('tinyvit.pth');
// Short locks so that a killed worker's job comes back within ~15-20 s (production default: 30 s).
const WORKER = { lockDurationMs: 10_000, stalledIntervalMs: 3000, pollMs: 300 } as const;

let redisServer: TestRedis;
let redis: Redis;
let tmp: string;
const workers: WorkerProcess[] = [];

function start(): WorkerProcess {
  const w = spawnWorker({ redisUrl: redisServer.url, ...WORKER });
  workers.push(w);
  return w;
}

const untilDrained = (id: string, timeoutMs: number): Promise<QueueStatus> => drained(redis, id, timeoutMs);

/** Job ids completed per worker event stream (a job completed twice would show up twice). */
function completions(ws: readonly WorkerProcess[], queue: string): string[] {
  return ws.flatMap((w) =>
    w.events.filter((e) => e.type === 'completed' && e.queue === queue).map((e) => (e as { jobId: string }).jobId),
  );
}

/** Starts two workers, waits for `victim`'s second job to start, kills it, returns the in-flight job. */
async function killMidJob(victim: WorkerProcess, queue: string): Promise<string> {
  const isActive = (e: WorkerEvent): boolean => e.type === 'active' && e.queue === queue;
  await victim.waitFor((e) => e.type === 'completed' && e.queue === queue, 120_000, 'first completed');
  const inFlight = (await victim.waitFor(
    (e) =>
      isActive(e) && !victim.events.some((c) => c.type === 'completed' && c.jobId === (e as { jobId: string }).jobId),
    60_000,
    'second active',
  )) as { jobId: string };
  victim.kill9();
  await victim.exited;
  return inFlight.jobId;
}

beforeAll(async () => {
  redisServer = await startTestRedis();
  redis = connectRedis(redisServer.url);
  tmp = mkdtempSync(join(tmpdir(), 'samtune-jobs-'));
  // the first PHOTOS photos of SOURCE, copied (workers read only inside the data root)
  VALID = join(tmp, 'valid');
  mkdirSync(VALID);
  const file = '_annotations.coco.json';
  const coco = JSON.parse(readFileSync(join(SOURCE, file), 'utf8')) as {
    images: { id: number; file_name: string }[];
    annotations: { image_id: number }[];
  };
  const images = coco.images.slice(0, PHOTOS);
  const ids = new Set(images.map((im) => im.id));
  for (const im of images) copyFileSync(join(SOURCE, im.file_name), join(VALID, im.file_name));
  const annotations = coco.annotations.filter((a) => ids.has(a.image_id));
  writeFileSync(join(VALID, file), JSON.stringify({ ...coco, images, annotations }));
});

afterAll(async () => {
  for (const w of workers) w.kill9();
  await redis?.quit();
  await redisServer?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('queue embed / autolabel on BullMQ + Redis, 2 worker processes', () => {
  const cacheDir = (): string => join(tmp, 'cache');
  let survivor: WorkerProcess;

  it('embeds every valid image exactly once although a worker is killed with SIGKILL mid-job', async () => {
    const res = await enqueue({ redis, kind: 'embed', dataRoot: VALID, outDir: cacheDir(), checkpoint: CHECKPOINT });
    expect(res).toMatchObject({ total: 8, added: 8, alreadyDone: 0, alreadyQueued: 0 });
    const victim = start();
    survivor = start();
    const killedJob = await killMidJob(victim, res.queueId);

    const s = await untilDrained(res.queueId, 150_000);
    expect(s.counts).toMatchObject({ completed: 8, failed: 0, active: 0, waiting: 0 });
    // every job completed once, by one of the two workers; the killed worker's job by the survivor
    const done = completions([victim, survivor], res.queueId);
    expect(done.length).toBe(8);
    expect(new Set(done).size).toBe(8);
    expect(victim.events.some((e) => e.type === 'completed' && e.jobId === killedJob)).toBe(false);
    const queue = new Queue(res.queueId, { connection: redis, prefix: BULL_PREFIX });
    const job = await queue.getJob(killedJob);
    expect((job?.returnvalue as JobResult).worker).toBe(survivor.id());
    await queue.close();

    // one valid cache file per image, in the trainer's layout: nothing left to compute
    const records = await readImageRecords(redis, res.queueId);
    const files = readdirSync(cacheDir()).filter((f) => f.endsWith('.safetensors'));
    expect(files.sort()).toEqual(records.map((r) => r.outputPath.split('/').pop()).sort());
    const ckpt = await loadSamCheckpoint(CHECKPOINT);
    const cache = new EmbeddingCache({
      dir: cacheDir(),
      encoderKey: imageEncoderKey(ckpt.config, ckpt.weights),
      embedder: () => Promise.reject(new Error('the cache should be full')),
    });
    const fill = await cache.fill(records.map((r) => r.imagePath));
    expect(fill).toMatchObject({ total: 8, hits: 8, computed: 0 });
    const one = await cache.get(records[0]!.imagePath);
    expect(one.embedding.shape).toEqual([1, 256, 64, 64]);
    expect(one.originalSize).toEqual([1536, 2048]);

    // a re-run enqueues nothing
    const again = await enqueue({ redis, kind: 'embed', dataRoot: VALID, outDir: cacheDir(), checkpoint: CHECKPOINT });
    expect(again).toMatchObject({ queueId: res.queueId, total: 8, added: 0, alreadyDone: 8 });
  }, 240_000);

  it('autolabels the valid boxes with a worker killed mid-job; collect gives one label per prompt', async () => {
    // The fixture's weights are random and predict empty masks; this test decoder (same frozen
    // encoder, so the embeddings of the previous test are reused) makes every mask logit
    // 32 * 0.1 * gelu(1) > 0: one (full-image) mask per prompt, which is what the pipeline must carry.
    const ckpt = await loadSamCheckpoint(CHECKPOINT);
    const w = new Map(ckpt.weights);
    const up = w.get('mask_decoder.output_upscaling.3.weight')!;
    w.set('mask_decoder.output_upscaling.3.weight', floatTensor(new Float32Array(up.data.length), up.shape));
    const upB = w.get('mask_decoder.output_upscaling.3.bias')!;
    w.set('mask_decoder.output_upscaling.3.bias', floatTensor(new Float32Array(upB.data.length).fill(1), upB.shape));
    for (let i = 0; i < ckpt.config.maskDecoder.numMultimaskOutputs + 1; i++) {
      const k = `mask_decoder.output_hypernetworks_mlps.${i}.layers.2`;
      const wt = w.get(`${k}.weight`)!;
      const b = w.get(`${k}.bias`)!;
      w.set(`${k}.weight`, floatTensor(new Float32Array(wt.data.length), wt.shape));
      w.set(`${k}.bias`, floatTensor(new Float32Array(b.data.length).fill(0.1), b.shape));
    }
    const labeler = join(tmp, 'labeler.safetensors');
    writeSamSafetensors(labeler, w, ckpt.config);

    // the second worker is up before the jobs exist, so both find the queue at the same time
    const victim = start();
    await victim.waitFor((e) => e.type === 'ready', 120_000, 'ready');
    const res = await enqueue({
      redis,
      kind: 'autolabel',
      dataRoot: VALID,
      outDir: join(tmp, 'labels'),
      cacheDir: cacheDir(),
      checkpoint: labeler,
      prompt: 'box',
    });
    expect(res).toMatchObject({ total: 8, added: 8 });
    const killedJob = await killMidJob(victim, res.queueId);
    const s = await untilDrained(res.queueId, 150_000);
    expect(s.counts).toMatchObject({ completed: 8, failed: 0 });
    const done = completions([victim, survivor], res.queueId);
    expect(new Set(done).size).toBe(8);
    expect(done.length).toBe(8);
    expect(victim.events.some((e) => e.type === 'completed' && e.jobId === killedJob)).toBe(false);

    const outDir = join(tmp, 'collected');
    mkdirSync(outDir);
    const collected = await collectLabels(redis, res.queueId, join(outDir, '_annotations.coco.json'));
    expect(collected).toMatchObject({ images: 8, annotations: 59, missing: [], skipped: [] });
    const source = await loadDataset(VALID);
    const back = await loadDataset(outDir, { allowImagesOutsideRoot: true }); // the images live elsewhere
    expect(back.skipped).toEqual([]);
    const count = (d: typeof back): Map<string, number> =>
      new Map(Object.values(d.subsets).flatMap((items) => items.map((it) => [it.imagePath, it.instances.length])));
    expect(count(back)).toEqual(count(source));
    expect(back.labels.map((l) => l.name)).toEqual(source.labels.map((l) => l.name));
  }, 240_000);

  it('fails a bad image once with its reason and completes the rest', async () => {
    const dir = join(tmp, 'mixed');
    mkdirSync(dir);
    const trainImages = readdirSync(TRAIN)
      .filter((f) => f.endsWith('.jpg'))
      .slice(0, 2);
    // copies: a symlink out of the data root is left out at enqueue (workers read only inside it)
    for (const f of trainImages) copyFileSync(join(TRAIN, f), join(dir, f));
    writeFileSync(join(dir, 'bad.jpg'), 'this is not a JPEG');
    const res = await enqueue({ redis, kind: 'embed', dataRoot: dir, outDir: cacheDir(), checkpoint: CHECKPOINT });
    expect(res).toMatchObject({ total: 3, added: 3 });
    const s = await untilDrained(res.queueId, 120_000);
    expect(s.counts).toMatchObject({ completed: 2, failed: 1 });
    expect(s.failed).toHaveLength(1);
    expect(s.failed[0]).toMatchObject({ imagePath: join(dir, 'bad.jpg'), attempts: 1 });
    expect(s.failed[0]!.reason).toMatch(/^EmbeddingCacheError: EmbeddingCache\.get\(.*bad\.jpg\): .*cannot read image/);
    expect(formatQueueStatus(s)).toContain(`failed ${join(dir, 'bad.jpg')}`);
  }, 180_000);

  it('closes gracefully on SIGTERM', async () => {
    expect(await survivor.term()).toBe(0);
    expect(survivor.events.at(-1)).toMatchObject({ type: 'closed' });
  }, 60_000);
});
