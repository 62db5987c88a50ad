/**
 * `pnpm bench:queue`: images/s of `samtune worker` processes embedding plant-seg-coco/valid (17 photos,
 * 2048x1536, TinyViT fixture) through BullMQ on a local redis-server, with 1 and then 2 workers on this
 * machine; plus Redis commands and bytes per job (INFO commandstats / stats deltas) and the shared
 * storage written per image. Throughput is steady state: completed jobs / (last finish - first start),
 * i.e. without the one-off model load; the bench's own Redis polls are subtracted. Writes bench/results/queue.{json,md}.
 * Usage: pnpm bench:queue [--workers 1,2]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connectRedis, enqueue, queueStatus } from '@samtune/jobs';
import { machineInfo, writeResult } from './machine.js';

const { values } = parseArgs({ options: { workers: { type: 'string', default: '1,2' } } });
const workerCounts = values.workers.split(',').map(Number);
const root = resolve(import.meta.dirname, '..');
const valid = resolve(root, '../shared/datasets/plant-seg-coco/valid');
const checkpoint = resolve(root, '../shared/fixtures/sam-reference/tinyvit.pth');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

const port = await new Promise<number>((res) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const a = s.address();
    s.close(() => res(typeof a === 'object' && a ? a.port : 0));
  });
});
const server = spawn('redis-server', [
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
]);
process.on('exit', () => server.kill('SIGTERM'));
const url = `redis://127.0.0.1:${port}`;
await new Promise((r) => setTimeout(r, 500));
const redis = connectRedis(url);

async function redisCounters(): Promise<{ calls: number; inBytes: number; outBytes: number }> {
  const cmd = await redis.info('commandstats');
  const calls = [...cmd.matchAll(/calls=(\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
  const st = await redis.info('stats');
  const num = (k: string): number => Number(new RegExp(`${k}:(\\d+)`).exec(st)?.[1] ?? 0);
  return { calls, inBytes: num('total_net_input_bytes'), outBytes: num('total_net_output_bytes') };
}

function startWorker(): ChildProcess {
  return spawn(tsx, ['--conditions=@samtune/source', join(import.meta.dirname, 'queue-worker.ts'), url], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Waits until the queue has no job left, with 2 cheap calls per poll (ZCARD completed, failed), counted. */
async function untilDone(queueId: string, jobs: number): Promise<number> {
  let calls = 0;
  for (;;) {
    const done = await Promise.all([
      redis.zcard(`samtune:${queueId}:completed`),
      redis.zcard(`samtune:${queueId}:failed`),
    ]);
    calls += 2;
    if (done[0] + done[1] >= jobs) return calls;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

interface Row {
  workers: number;
  images: number;
  imagesPerSecond: number;
  wallSeconds: number;
  redisCallsPerJob: number;
  redisBytesPerJob: number;
  storageBytesPerImage: number;
}

const machine = machineInfo(); // at the start: the load average before the runs
const rows: Row[] = [];
for (const n of workerCounts) {
  const out = mkdtempSync(join(tmpdir(), 'samtune-bench-queue-'));
  const before = await redisCounters();
  const t0 = performance.now();
  const res = await enqueue({ redis, kind: 'embed', dataRoot: valid, outDir: out, checkpoint });
  const procs = Array.from({ length: n }, startWorker);
  const pollCalls = await untilDone(res.queueId, res.added);
  const wallSeconds = (performance.now() - t0) / 1000;
  const after = await redisCounters();
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => new Promise((r) => p.once('exit', r))));
  const s = await queueStatus(redis, res.queueId);
  const files = readdirSync(out).filter((f) => f.endsWith('.safetensors'));
  const bytes = files.reduce((sum, f) => sum + statSync(join(out, f)).size, 0);
  const row: Row = {
    workers: n,
    images: s.counts.completed,
    imagesPerSecond: s.imagesPerSecond,
    wallSeconds,
    // minus the bench's own calls: its polls and the two INFO calls of the second reading
    redisCallsPerJob: (after.calls - before.calls - pollCalls - 2) / s.counts.completed,
    redisBytesPerJob: (after.inBytes + after.outBytes - before.inBytes - before.outBytes) / s.counts.completed,
    storageBytesPerImage: bytes / files.length,
  };
  rows.push(row);
  console.log(
    `${n} worker(s): ${row.imagesPerSecond.toFixed(3)} images/s steady state, ${row.wallSeconds.toFixed(1)} s wall incl. start-up; ${row.redisCallsPerJob.toFixed(1)} Redis calls/job`,
  );
  rmSync(out, { recursive: true, force: true });
}
await redis.quit();
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));

const base = rows[0]?.imagesPerSecond ?? Number.NaN;
writeResult(
  resolve(import.meta.dirname, 'results/queue.json'),
  JSON.stringify(
    { benchmark: 'samtune worker: embed plant-seg-coco/valid via BullMQ + Redis', machine, results: rows },
    null,
    2,
  ),
);
const md = [
  '# Scale-out queue: images/s with 1 and 2 `samtune worker` processes (embed, TinyViT)',
  '',
  `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, load average ${machine.loadAverage1m} at start, ${machine.date}.`,
  'plant-seg-coco/valid (17 photos 2048x1536), tinyvit.pth fixture, redis-server 7 on 127.0.0.1 (persistence off), all in one run.',
  'images/s is steady state (completed jobs / (last finish - first start)); wall includes hashing, enqueue, process start and model load.',
  '',
  '| workers | images | images/s | vs 1 worker | wall s | Redis calls / job | Redis bytes / job | storage bytes / image |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.workers} | ${r.images} | ${r.imagesPerSecond.toFixed(3)} | ${(r.imagesPerSecond / base).toFixed(2)}x | ${r.wallSeconds.toFixed(1)} | ${r.redisCallsPerJob.toFixed(1)} | ${Math.round(r.redisBytesPerJob)} | ${Math.round(r.storageBytesPerImage)} |`,
  ),
  '',
  'On one 2-core machine a second worker cannot add throughput: the encoder already uses both cores (onnxruntime intra-op threads), so two processes share them. Scale-out is across machines.',
  '',
  'Reproduce: `pnpm bench:queue` (writes bench/results/queue.json and this file).',
];
writeResult(resolve(import.meta.dirname, 'results/queue.md'), md.join('\n'));
