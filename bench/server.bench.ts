/**
 * `pnpm bench:server`: the labelling server under load, on loopback only, bounded in count and time.
 * The server runs as its own process (`samtune serve` from sources, reference MobileSAM checkpoint)
 * so the load generator (autocannon) never shares its event loop; its RSS is read from /proc.
 * - `/api/predict` on a cached embedding at 1, 10 and 50 connections: requests/s, p50/p99, errors;
 * - `/api/health` polled every 100 ms during the 50-connection run: p50/p99/max;
 * - 10 concurrent uploads of distinct images (`POST /api/embed` with bytes): latency and statuses;
 * - 4 concurrent 16000x16000 PNG uploads (real 746 KB-class decompression bombs): statuses and RSS;
 * - peak RSS of the server process (VmHWM).
 * Writes bench/results/server.{json,md}. Usage: pnpm bench:server [--requests 100]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { machineInfo, median, writeResult } from './machine.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '100' } } });
const maxRequests = Math.max(20, Number(values.requests));
const repo = resolve(import.meta.dirname, '..');
const ref = resolve(repo, '../shared/fixtures/sam-reference');
const BOMB = join(tmpdir(), 'samtune-bench-bomb-16000.png');

/** VmRSS and VmHWM (peak) of a process in MiB. */
function rss(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rssMiB: Math.round(kb('VmRSS') / 1024), peakMiB: Math.round(kb('VmHWM') / 1024) };
}

const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

async function startServerProcess(images: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@samtune/source',
      join(repo, 'apps/cli/src/main.ts'),
      'serve',
      '--checkpoint',
      join(ref, 'tinyvit.pth'),
      '--images',
      images,
      '--port',
      '0',
      '--queue',
      '64',
    ],
    { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const url = await new Promise<string>((ok, fail) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) ok(m[1] as string);
    });
    child.once('exit', (code) => fail(new Error(`server exited with ${code}: ${err}`)));
  });
  child.stderr?.removeAllListeners('data');
  child.stderr?.resume();
  return { child, url };
}

async function post(
  url: string,
  type: string,
  body: Uint8Array | string,
): Promise<{ status: number; ms: number; json: Record<string, unknown> }> {
  const t0 = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
  const json = (await res.json()) as Record<string, unknown>;
  return { status: res.status, ms: performance.now() - t0, json };
}

interface LoadRow {
  connections: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

async function predictLoad(url: string, id: string, connections: number, amount: number): Promise<LoadRow> {
  const r = await autocannon({
    url: `${url}/api/predict`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, box: [160, 133.5, 560, 480.6] }),
    connections,
    amount,
    timeout: 300,
  });
  return {
    connections,
    requests: r.requests.total,
    requestsPerSecond: +(r.requests.total / (r.duration || 1)).toFixed(2),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'samtune-bench-server-'));
const dog = readFileSync(join(ref, 'dog.jpg'));
copyFileSync(join(ref, 'dog.jpg'), join(dir, 'dog.jpg'));
if (!existsSync(BOMB)) {
  process.stderr.write('bench:server: writing a 16000x16000 PNG decompression bomb (once, cached in the tmp dir)…\n');
  await sharp({ create: { width: 16000, height: 16000, channels: 3, background: '#3a6' } })
    .png({ compressionLevel: 9 })
    .toFile(BOMB);
}
const bomb = readFileSync(BOMB);
const { child, url } = await startServerProcess(dir);
const pid = child.pid as number;
try {
  const idle = rss(pid);
  const emb = await post(`${url}/api/embed`, 'application/json', JSON.stringify({ image: 'dog.jpg' }));
  const id = emb.json.id as string;
  await predictLoad(url, id, 1, 3); // warm-up
  const rows: LoadRow[] = [];
  for (const c of [1, 10]) rows.push(await predictLoad(url, id, c, Math.min(maxRequests, c * 10)));
  const health: number[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const t0 = performance.now();
      await fetch(`${url}/api/health`).then((r) => r.arrayBuffer());
      health.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  rows.push(await predictLoad(url, id, 50, maxRequests));
  polling = false;
  await poller;
  const afterPredict = rss(pid);

  // 10 concurrent uploads of 10 different images (new ids: each is decoded and embedded)
  const uploads = await Promise.all(
    Array.from({ length: 10 }, async (_, k) => {
      const bytes = await sharp(dog)
        .resize(800 - 8 * k)
        .jpeg({ quality: 90 })
        .toBuffer();
      return post(`${url}/api/embed`, 'image/jpeg', bytes);
    }),
  );
  const afterUploads = rss(pid);

  // 4 concurrent decompression bombs, RSS sampled every 20 ms
  const before = rss(pid);
  let peak = before.rssMiB;
  const sampler = setInterval(() => (peak = Math.max(peak, rss(pid).rssMiB)), 20);
  const bombs = await Promise.all(Array.from({ length: 4 }, () => post(`${url}/api/embed`, 'image/png', bomb)));
  clearInterval(sampler);
  const final = rss(pid);

  const result = {
    machine: machineInfo(),
    server: 'samtune serve --checkpoint tinyvit.pth (reference MobileSAM, CPU), own process, 127.0.0.1; --queue 64',
    predict: rows,
    healthDuring50: {
      samples: health.length,
      p50Ms: +median(health).toFixed(1),
      p99Ms: +pct(health, 99).toFixed(1),
      maxMs: +Math.max(...health).toFixed(1),
    },
    uploads10: {
      statuses: uploads.map((u) => u.status),
      p50Ms: Math.round(median(uploads.map((u) => u.ms))),
      maxMs: Math.round(Math.max(...uploads.map((u) => u.ms))),
    },
    bombs4: {
      bytesEach: bomb.length,
      statuses: bombs.map((b) => b.status),
      message: (bombs[0]?.json.error as { message?: string } | undefined)?.message ?? '',
      rssBeforeMiB: before.rssMiB,
      rssPeakDuringMiB: peak,
      rssDeltaMiB: peak - before.rssMiB,
    },
    rssMiB: {
      idle: idle.rssMiB,
      afterPredict: afterPredict.rssMiB,
      afterUploads: afterUploads.rssMiB,
      final: final.rssMiB,
    },
    peakRssMiB: final.peakMiB,
  };
  const md = [
    '# bench:server',
    '',
    `Machine: ${result.machine.cpu}, ${result.machine.cores} cores, load ${result.machine.loadAverage1m} at start, node ${result.machine.node}, ${result.machine.date}.`,
    `Server: ${result.server}. Load: autocannon on loopback, \`POST /api/predict\` (a box) on a cached embedding.`,
    '',
    '| connections | requests | req/s | p50 ms | p99 ms | max ms | non-2xx | errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.connections} | ${r.requests} | ${r.requestsPerSecond} | ${r.p50Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.non2xx} | ${r.errors + r.timeouts} |`,
    ),
    '',
    `\`GET /api/health\` during the 50-connection run (${result.healthDuring50.samples} samples, every 100 ms): p50 ${result.healthDuring50.p50Ms} ms, p99 ${result.healthDuring50.p99Ms} ms, max ${result.healthDuring50.maxMs} ms.`,
    '',
    `10 concurrent uploads (distinct images, decoded and embedded in the queue): statuses ${result.uploads10.statuses.join(', ')}; p50 ${result.uploads10.p50Ms} ms, max ${result.uploads10.maxMs} ms.`,
    '',
    `4 concurrent 16000x16000 PNG uploads (${(bomb.length / 1024).toFixed(0)} KiB each): statuses ${result.bombs4.statuses.join(', ')} ("${result.bombs4.message}"); RSS ${result.bombs4.rssBeforeMiB} MiB before, peak ${result.bombs4.rssPeakDuringMiB} MiB during (+${result.bombs4.rssDeltaMiB} MiB).`,
    '',
    `RSS (MiB): idle ${result.rssMiB.idle}, after the predict runs ${result.rssMiB.afterPredict}, after the uploads ${result.rssMiB.afterUploads}; peak (VmHWM) ${result.peakRssMiB}.`,
  ].join('\n');
  writeResult(resolve(repo, 'bench/results/server.json'), JSON.stringify(result, null, 2));
  writeResult(resolve(repo, 'bench/results/server.md'), md);
  process.stdout.write(`${md}\n`);
} finally {
  child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
