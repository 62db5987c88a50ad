/**
 * One box -> mask at the original size on a cached image embedding (800x534 image):
 * (a) in-process on the ORT engine (`SamModel.predict`, engine `ort`: decoder + post-processing
 *     graphs on onnxruntime-node), for each output kind (float logits, uint8 mask, COCO RLE) and
 *     1 vs 2 intra-op threads;
 * (b) in-process on today's tfjs path (engine `tfjs`: `SamPredictor` on the selected tfjs backend,
 *     logits at the original size), in the same run;
 * (c) through the server: apps/server started on 127.0.0.1 with a free port, the image embedded once
 *     (`POST /api/embed`), then `BENCH_SERVER_N` sequential `POST /api/predict` with the box: p50/p99.
 * Model: MobileSAM's architecture from the reference checkpoint ../shared/fixtures/sam-reference/
 * tinyvit.pth (random but seeded weights, the real shapes). Image: the first photo of
 * ../shared/datasets/plant-seg-coco/valid resized to 800x534 (PIL bilinear), box = its first
 * instance's COCO box scaled to that size.
 *
 * Wall times are medians; each also reports the median CPU time of the process (user+system), which
 * on a busy machine is closer to what the work costs than the wall time. The load average is
 * recorded at the start and the end.
 *
 * Run from the repo root: pnpm bench:predict
 * Env: BENCH_N (ORT reps, default 30), BENCH_TFJS_N (tfjs reps, default 5), BENCH_SERVER_N (default
 * 50), BENCH_SERVER=0 skips (c). Writes bench/results/predict.{json,md}.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ortVersion } from '@samtune/onnx';
import {
  initBackend,
  OrtDecoder,
  SamModel,
  type Box,
  type DecodeOptions,
  type ImageEmbedding,
} from '@samtune/sam-model';
import { readImage, resizePil, writeOverlayPng, type RgbImage } from '@samtune/transforms';
import { machineInfo, median, writeResult } from './machine.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REF = resolve(ROOT, '../shared/fixtures/sam-reference');
const DATA = resolve(ROOT, '../shared/datasets/plant-seg-coco/valid');
const N = Number(process.env.BENCH_N ?? 30);
const TFJS_N = Number(process.env.BENCH_TFJS_N ?? 5);
const SERVER_N = Number(process.env.BENCH_SERVER_N ?? 50);
const SIZE = { width: 800, height: 534 } as const;
const round = (x: number, d = 1): number => Number(x.toFixed(d));

interface Timing {
  /** Median wall ms. */
  readonly ms: number;
  /** Median process CPU ms (user + system). */
  readonly cpuMs: number;
  readonly reps: number;
}

async function time(reps: number, f: () => Promise<unknown>, warm = 2): Promise<Timing> {
  for (let i = 0; i < warm; i++) await f();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    await f();
    wall.push(performance.now() - t);
    const u = process.cpuUsage(c);
    cpu.push((u.user + u.system) / 1000);
  }
  return { ms: round(median(wall), 2), cpuMs: round(median(cpu), 2), reps };
}

/**
 * Like `time`, but the variants run in turn within each rep (a, b, c, a, b, c, …), so a change of
 * the machine's load hits all of them alike: the fair way to compare them on a shared machine.
 */
async function timeInterleaved(
  reps: number,
  fs: Readonly<Record<string, () => Promise<unknown>>>,
  warm = 2,
): Promise<Record<string, Timing>> {
  const names = Object.keys(fs);
  const wall = new Map<string, number[]>(names.map((n) => [n, []]));
  const cpu = new Map<string, number[]>(names.map((n) => [n, []]));
  for (let i = -warm; i < reps; i++) {
    for (const n of names) {
      const c = process.cpuUsage();
      const t = performance.now();
      await (fs[n] as () => Promise<unknown>)();
      if (i < 0) continue;
      wall.get(n)?.push(performance.now() - t);
      const u = process.cpuUsage(c);
      cpu.get(n)?.push((u.user + u.system) / 1000);
    }
  }
  return Object.fromEntries(
    names.map((n) => [n, { ms: round(median(wall.get(n) ?? []), 2), cpuMs: round(median(cpu.get(n) ?? []), 2), reps }]),
  );
}

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}

/** The bench image (800x534) and its box, from the first plant-seg-coco valid photo. */
async function benchImage(): Promise<{ img: RgbImage; box: Box; file: string }> {
  const coco = JSON.parse(readFileSync(join(DATA, '_annotations.coco.json'), 'utf8')) as {
    images: { id: number; file_name: string; width: number; height: number }[];
    annotations: { image_id: number; bbox: (number | string)[] }[];
  };
  const im = coco.images[0];
  const ann = im && coco.annotations.find((a) => a.image_id === im.id);
  if (!im || !ann) throw new Error(`bench: ${DATA}/_annotations.coco.json has no annotated image`);
  const src = await readImage(join(DATA, im.file_name));
  const img = resizePil(src, SIZE.width, SIZE.height) as RgbImage;
  const sx = SIZE.width / src.width;
  const sy = SIZE.height / src.height;
  const [x, y, w, h] = ann.bbox.map(Number) as [number, number, number, number]; // this export has some as strings
  return { img, box: [x * sx, y * sy, (x + w) * sx, (y + h) * sy], file: im.file_name };
}

/** Starts apps/server on 127.0.0.1 (free port) and returns its URL and a stop function. */
async function startServer(checkpoint: string, imagesDir: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@samtune/source',
      join(ROOT, 'apps/cli/src/main.ts'),
      'serve',
      '--checkpoint',
      checkpoint,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--images',
      imagesDir,
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`bench: the server did not start in 300 s:\n${log}`)), 300_000);
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        ok(m[1] as string);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`bench: the server exited with ${code}:\n${log}`));
    });
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

async function post(url: string, body: unknown): Promise<unknown> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await r.json()) as unknown;
  if (!r.ok) throw new Error(`bench: POST ${url} -> ${r.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

async function benchServer(checkpoint: string, img: RgbImage, box: Box): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'samtune-bench-predict-'));
  let stop: (() => void) | undefined;
  try {
    await writeOverlayPng(join(dir, 'plant.png'), img, []);
    const srv = await startServer(checkpoint, dir);
    stop = srv.stop;
    const emb = (await post(`${srv.url}/api/embed`, { image: 'plant.png' })) as { id: string };
    const req = { id: emb.id, box: [...box], multimask: false };
    for (let i = 0; i < 3; i++) await post(`${srv.url}/api/predict`, req);
    const xs: number[] = [];
    let area = 0;
    for (let i = 0; i < SERVER_N; i++) {
      const t = performance.now();
      const r = (await post(`${srv.url}/api/predict`, req)) as { masks: { area: number }[] };
      xs.push(performance.now() - t);
      area = r.masks[0]?.area ?? 0;
    }
    return {
      ok: true,
      calls: SERVER_N,
      p50Ms: round(percentile(xs, 50), 2),
      p99Ms: round(percentile(xs, 99), 2),
      area,
    };
  } catch (err) {
    return { ok: false, error: (err as Error).message.slice(0, 2000) };
  } finally {
    stop?.();
    rmSync(dir, { recursive: true, force: true });
  }
}

const machine = machineInfo();
const backend = await initBackend();
const checkpoint = join(REF, 'tinyvit.pth');
const { img, box, file } = await benchImage();
console.log(`image ${file} -> ${SIZE.width}x${SIZE.height}, box [${box.map((v) => v.toFixed(1)).join(', ')}]`);

const results: Record<string, Timing & { threads?: number; output?: string }> = {};
let emb: ImageEmbedding | undefined;
let build: Record<string, number> = {};
for (const threads of [1, 2]) {
  const model = await SamModel.load(checkpoint, { decoderThreads: threads });
  emb ??= await model.embedImage(img);
  const t0 = performance.now();
  await model.ortEngine().warmUp({ maskOutput: 'logits' });
  build = { ...build, [`threads${threads}`]: round(performance.now() - t0) };
  for (const output of ['logits', 'binary', 'rle'] as const) {
    const opts: DecodeOptions = { multimask: false, maskOutput: output };
    const e = emb;
    results[`ort.t${threads}.${output}`] = {
      ...(await time(N, () => model.predict(e, { box }, opts))),
      threads,
      output,
    };
    console.log(`ort threads=${threads} ${output}:`, results[`ort.t${threads}.${output}`]);
  }
  if (threads === 1) {
    // Before vs after the image-side / prompt split of the decoder, interleaved in one loop:
    // `split` = the engine's default (image-side outputs cached per embedding); `unsplit` = the
    // whole decoder graph per call (the engine before the split); `split.uncached` = both graphs
    // per call (the first box on a newly embedded image).
    const e = emb;
    const variants = {
      split: new OrtDecoder(model.config, model.weights, { intraOpNumThreads: 1 }),
      unsplit: new OrtDecoder(model.config, model.weights, { intraOpNumThreads: 1, splitDecoder: false }),
      'split.uncached': new OrtDecoder(model.config, model.weights, { intraOpNumThreads: 1, imageSideCacheSize: 0 }),
    };
    const opts: DecodeOptions = { multimask: false, maskOutput: 'logits' };
    const timed = await timeInterleaved(
      N,
      Object.fromEntries(
        Object.entries(variants).map(([k, d]) => [k, () => d.predict(e.embedding, { box }, e.originalSize, opts)]),
      ),
    );
    for (const [k, t] of Object.entries(timed)) {
      results[`ort.t1.logits.${k}`] = { ...t, threads, output: 'logits' };
      console.log(`ort threads=1 logits ${k}:`, t);
    }
    for (const d of Object.values(variants)) await d.release();
  }
  await model.release();
}
const tfModel = await SamModel.load(checkpoint, { engine: 'tfjs' });
const e = emb as ImageEmbedding;
results['tfjs.logits'] = {
  ...(await time(TFJS_N, () => tfModel.predict(e, { box }, { multimask: false, maskOutput: 'logits' }), 1)),
  output: 'logits',
};
console.log(`tfjs (${backend.name}) logits:`, results['tfjs.logits']);
await tfModel.release();

const server =
  process.env.BENCH_SERVER === '0'
    ? { ok: false, error: 'skipped (BENCH_SERVER=0)' }
    : await benchServer(checkpoint, img, box);
console.log('server:', server);

const tf = results['tfjs.logits'] as Timing;
const def = results['ort.t1.logits'] as Timing; // the engine's default: 1 intra-op thread
const split = results['ort.t1.logits.split'] as Timing;
const unsplit = results['ort.t1.logits.unsplit'] as Timing;
const summary = {
  machine,
  loadAverage1mEnd: round(loadavg()[0] ?? 0, 2),
  onnxruntime: ortVersion(),
  tfjsBackend: backend.name,
  image: { file, width: SIZE.width, height: SIZE.height },
  box,
  sessionBuildMs: build,
  results,
  speedupOrtVsTfjs: { wall: round(tf.ms / def.ms), cpu: round(tf.cpuMs / def.cpuMs) },
  speedupSplitVsUnsplit: { wall: round(unsplit.ms / split.ms, 2), cpu: round(unsplit.cpuMs / split.cpuMs, 2) },
  server,
};
writeResult(join(ROOT, 'bench/results/predict.json'), JSON.stringify(summary, null, 2));

const rows = Object.entries(results).map(
  ([k, r]) => `| ${k} | ${r.ms} | ${r.cpuMs} | ${r.reps} | ${round(tf.ms / r.ms)}x | ${round(tf.cpuMs / r.cpuMs)}x |`,
);
const md = `# One box -> mask at the original size (800x534), cached embedding

Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}, node ${machine.node};
onnxruntime-node ${summary.onnxruntime}; tfjs backend \`${backend.name}\`. ${machine.date}.
Load average (1 min): ${machine.loadAverage1m} at the start, ${summary.loadAverage1mEnd} at the end (other jobs shared the machine).

Model: tinyvit.pth (MobileSAM shapes). Image: plant-seg-coco valid \`${file}\` resized to 800x534; box
[${box.map((v) => v.toFixed(1)).join(', ')}]; single-mask output (token 0). \`cpu ms\` is the process's CPU
time per call (user + system).

| path | wall ms (median) | cpu ms (median) | reps | vs tfjs (wall) | vs tfjs (cpu) |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

ORT (default: 1 intra-op thread, float logits at the original size) vs tfjs in the same run:
**${summary.speedupOrtVsTfjs.wall}x** (wall), **${summary.speedupOrtVsTfjs.cpu}x** (CPU time).
Decoder split (image-side graph once per embedding + prompt graph per box, vs the whole decoder graph (official NCHW mask head) per
box; the \`ort.t1.logits.*\` rows, interleaved in one loop): **${summary.speedupSplitVsUnsplit.wall}x** (wall),
**${summary.speedupSplitVsUnsplit.cpu}x** (CPU time); \`split.uncached\` is the first box on a new embedding.
ORT session build (decoder + post-processing graphs, first call): ${JSON.stringify(build)} ms.

Through the server (\`POST /api/predict\`, ${SERVER_N} sequential calls after the embedding is cached):
${server.ok ? `p50 ${String(server.p50Ms)} ms, p99 ${String(server.p99Ms)} ms.` : `not measured: ${String(server.error).split('\n')[0]}`}
`;
// The demo's peak RSS has its own benchmark (bench:demo-rss, bench/results/demo-rss.md).
writeResult(join(ROOT, 'bench/results/predict.md'), md);
console.log(md);
