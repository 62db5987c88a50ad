/**
 * The queue with a SAM 2.1 checkpoint (issue 25), on a real Redis (Debian's redis-server, loopback)
 * and a worker in this process, on the seeded reduced-Hiera fixture (`../shared/fixtures/sam2-reference/`)
 * and its photo: `queue embed` writes a cache file (family `sam2`) whose image embedding and both
 * high-res levels match the official SAM 2.1 features, and which the trainer's `EmbeddingCache` finds;
 * `queue autolabel` on that cache labels the fixture's box (case 1) with the official mask: the
 * collected COCO mask equals the official original-size logits > 0 wherever they are not within the
 * tolerance of 0, and its score is the official IoU prediction.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { decodeRleString, rleToMask } from '@samtune/datasets';
import { EmbeddingCache, imageEncoderKey } from '@samtune/evaluation';
import { compareTensors, loadSam2Checkpoint, writeSam2Safetensors, type FloatTensor } from '@samtune/sam-model';
import { readSafetensors } from '@samtune/tensor-files';
import { referencePath, sharedPath } from '@samtune/test-fixtures';
import {
  collectLabels,
  connectRedis,
  enqueue,
  readImageRecords,
  startWorker,
  type QueueStatus,
  type RunningWorker,
  type WorkerEvent,
} from './index.js';
import { untilDrained as drained } from './test-utils/drained.js';
import { startTestRedis, type TestRedis } from './test-utils/redis-server.js';

const fixture = (name: string): string => sharedPath(join('fixtures', 'sam2-reference', name));
/** The fixture's trunk is not an official layout: the facts its shapes lack (manifest `models.hiera_mini`). */
const HIERA_MINI_FACTS = { numHeads: 1, globalAttBlocks: [3], windowSpec: [8, 4, 14, 7], qPool: 3 } as const;
/** Case 1 of the fixture: one box, XYXY original pixels (manifest `cases.dog[1]`). */
const BOX = [160, 133.5, 560, 480.6000061035156] as const;

let redisServer: TestRedis;
let redis: Redis;
let tmp: string;
let worker: RunningWorker | undefined;
const events: WorkerEvent[] = [];

const untilDrained = (id: string, timeoutMs: number): Promise<QueueStatus> =>
  drained(redis, id, timeoutMs, { pollMs: 200, context: () => JSON.stringify(events.slice(-5)) });

beforeAll(async () => {
  redisServer = await startTestRedis();
  redis = connectRedis(redisServer.url);
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'samtune-jobs-sam2-')));
});

afterAll(async () => {
  await worker?.close(true);
  await redis?.quit();
  await redisServer?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('queue embed / autolabel with a SAM 2.1 checkpoint (seeded reduced Hiera)', () => {
  it('embeds with the high-res levels as the official code does, and labels the box with the official mask', async () => {
    const ckpt = await loadSam2Checkpoint(fixture('sam2.1_hiera_mini_seeded.pt'), { facts: HIERA_MINI_FACTS });
    const checkpoint = join(tmp, 'hiera_mini.safetensors');
    writeSam2Safetensors(checkpoint, ckpt.weights, ckpt.config);
    // a one-image COCO dataset: the fixture's photo and case 1's box as a box-only instance
    const dataRoot = join(tmp, 'data');
    mkdirSync(dataRoot);
    copyFileSync(referencePath('dog.jpg'), join(dataRoot, 'dog.jpg'));
    const coco = {
      images: [{ id: 1, file_name: 'dog.jpg', width: 800, height: 534 }],
      categories: [{ id: 1, name: 'dog' }],
      annotations: [{ id: 7, image_id: 1, category_id: 1, bbox: [BOX[0], BOX[1], BOX[2] - BOX[0], BOX[3] - BOX[1]] }],
    };
    writeFileSync(join(dataRoot, '_annotations.coco.json'), JSON.stringify(coco));
    const cacheDir = join(tmp, 'cache');
    worker = await startWorker({ redisUrl: redisServer.url, pollMs: 200, onEvent: (e) => events.push(e) });

    const embedded = await enqueue({ redis, kind: 'embed', dataRoot, outDir: cacheDir, checkpoint });
    expect(embedded).toMatchObject({ total: 1, added: 1 });
    expect((await untilDrained(embedded.queueId, 120_000)).counts).toMatchObject({ completed: 1, failed: 0 });

    // the cache file: the trainer's SAM 2.1 cache finds it, and it holds the official features
    const cache = new EmbeddingCache({
      dir: cacheDir,
      family: 'sam2',
      encoderKey: imageEncoderKey(ckpt.config, ckpt.weights),
      embedder: () => Promise.reject(new Error('the cache should be full')),
    });
    const [record] = await readImageRecords(redis, embedded.queueId);
    const got = await cache.get(join(dataRoot, 'dog.jpg'));
    expect(got).toMatchObject({
      hit: true,
      path: record?.outputPath,
      originalSize: [534, 800],
      inputSize: [1024, 1024],
    });
    const ref = readSafetensors(fixture('hiera_mini_outputs.safetensors')).tensors as Map<string, FloatTensor>;
    expect(compareTensors(got.embedding, ref.get('dog.image_embeddings')!).ok).toBe(true);
    expect(compareTensors(got.highResFeats![0], ref.get('dog.high_res_feats.0')!).ok).toBe(true);
    expect(compareTensors(got.highResFeats![1], ref.get('dog.high_res_feats.1')!).ok).toBe(true);

    const labelled = await enqueue({
      redis,
      kind: 'autolabel',
      dataRoot,
      outDir: join(tmp, 'labels'),
      cacheDir,
      checkpoint,
      prompt: 'box',
    });
    expect(labelled).toMatchObject({ total: 1, added: 1 });
    expect((await untilDrained(labelled.queueId, 120_000)).counts).toMatchObject({ completed: 1, failed: 0 });
    const done = events.filter((e) => e.type === 'completed');
    expect(done.map((e) => e.type === 'completed' && e.reused)).toEqual([false, false]);

    const out = join(tmp, 'collected.json');
    expect(await collectLabels(redis, labelled.queueId, out)).toMatchObject({ images: 1, annotations: 1, skipped: [] });
    const doc = JSON.parse(readFileSync(out, 'utf8')) as {
      annotations: { segmentation: { size: [number, number]; counts: string }; score: number }[];
    };
    const ann = doc.annotations[0]!;
    expect(ann.segmentation.size).toEqual([534, 800]);
    const mask = rleToMask(decodeRleString(ann.segmentation.counts), 534, 800).data;
    const logits = ref.get('dog.case1.masks')!.data;
    const tol = 1e-4 + 1e-3 * logits.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    let decided = 0;
    let differ = 0;
    for (let i = 0; i < logits.length; i++) {
      const v = logits[i] as number;
      if (Math.abs(v) <= tol) continue;
      decided++;
      if ((mask[i] === 1) !== v > 0) differ++;
    }
    expect(decided).toBeGreaterThan(0.99 * logits.length);
    expect(differ).toBe(0);
    const iou = ref.get('dog.case1.iou_predictions')!.data[0] as number;
    expect(Math.abs(ann.score - iou)).toBeLessThanOrEqual(1e-4 + 1e-3 * Math.abs(iou) + 5e-6); // score has 5 decimals
  }, 240_000);
});
