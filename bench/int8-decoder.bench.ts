/**
 * `pnpm bench:int8-decoder`: the exported SAM decoder (official ONNX signature, the fixture TinyViT
 * checkpoint), FP32 vs the static INT8 QDQ model `optimize` makes (`quantizeStatic`, the default
 * excludes), in ONE run: ms per prompt (one box, output at the photo's size), the two models' runs
 * interleaved; then an onnxruntime profile of each, summed by op type, which says where the time goes.
 * Calibration: the fixture embeddings of dog.jpg / truck.jpg with box and point prompts (as the
 * package's decoder test); a 2048x1536 photo size, as plant-seg-coco.
 *
 *   pnpm bench:int8-decoder [--runs 20] [--threads 2]
 *
 * Writes bench/results/int8-decoder.{json,md} with the machine and the load average.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { decoderFeeds, recordDecoderGraph } from '@samtune/export';
import { BoundOrtSession, createSession, type BoundTensor } from '@samtune/onnx';
import { DEFAULT_EXCLUDES, quantizeStatic, type Feeds } from '@samtune/quantize-ptq';
import { loadSamCheckpoint, type FloatTensor } from '@samtune/sam-model';
import { readSafetensors } from '@samtune/tensor-files';
import { machineInfo, median, writeResult } from './machine.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '20' }, threads: { type: 'string', default: '2' } },
});
const RUNS = Number(values.runs);
const THREADS = Number(values.threads);
const REF = resolve(import.meta.dirname, '../../shared/fixtures/sam-reference');
const SIZE: [number, number] = [1536, 2048];

const loadStart = loadavg()[0] ?? 0;
const ck = await loadSamCheckpoint(join(REF, 'tinyvit.pth'));
const fp32 = recordDecoderGraph(ck.config, ck.weights, { variant: 'multimask' }).builder.toModelBytes();
const ref = readSafetensors(join(REF, 'tinyvit_outputs.safetensors')).tensors;
const emb = ['dog', 'truck'].map((s) => ref.get(`${s}.image_embeddings`) as FloatTensor);
const calibration: Feeds[] = emb.flatMap((e, i) => [
  decoderFeeds(e, { box: [300 + 90 * i, 280, 1500, 1200 - 60 * i] }, SIZE),
  decoderFeeds(e, { points: [[900, 700 - 40 * i]], labels: [1] }, SIZE),
  decoderFeeds(e, { box: [200, 150 + 50 * i, 900, 1000] }, SIZE),
]);
const t0 = performance.now();
const q = await quantizeStatic(fp32, calibration, {
  exclude: DEFAULT_EXCLUDES.decoder,
  session: { intraOpNumThreads: THREADS },
});
const quantizeSeconds = (performance.now() - t0) / 1000;
const feeds = decoderFeeds(emb[0] as FloatTensor, { box: [400, 300, 1600, 1100] }, SIZE) as Feeds;

/** A bound session over `model` with outputs pre-allocated to the shapes one plain run returns. */
async function bound(model: Uint8Array, profilePrefix?: string) {
  const probe = await createSession(model, { intraOpNumThreads: THREADS });
  const out = await probe.run(feeds);
  await probe.release();
  const session = new BoundOrtSession(model, {
    intraOpThreads: THREADS,
    cpuMemArena: true,
    ...(profilePrefix ? { profilePrefix } : {}),
  });
  const f: Record<string, BoundTensor> = {};
  for (const [k, t] of Object.entries(feeds)) f[k] = session.tensor(t.data as Float32Array, t.shape);
  const o: Record<string, BoundTensor> = {};
  for (const [k, t] of Object.entries(out)) o[k] = session.tensor(new Float32Array(t.data.length), t.shape);
  return { session, run: () => session.run(f, o) };
}

// 1. latency, interleaved
const models = { fp32, int8: q.bytes };
const timed = await Promise.all(Object.values(models).map((m) => bound(m)));
const ms: number[][] = timed.map(() => []);
for (const s of timed) for (let i = 0; i < 3; i++) s.run();
for (let r = 0; r < RUNS; r++)
  timed.forEach((s, k) => {
    const t = performance.now();
    s.run();
    (ms[k] as number[]).push(performance.now() - t);
  });
for (const s of timed) s.session.dispose();

// 2. where the time goes: ORT's profile of each model, kernel time by op type (mean per run)
const dir = mkdtempSync(join(tmpdir(), 'samtune-int8-prof-'));
const PROFILE_RUNS = 10;
const byOp: Record<string, Record<string, number>> = {};
for (const [name, model] of Object.entries(models)) {
  const s = await bound(model, join(dir, name));
  for (let i = 0; i < 3 + PROFILE_RUNS; i++) s.run();
  s.session.endProfiling();
  s.session.dispose();
  const file = readdirSync(dir).find((f) => f.startsWith(`${name}_`)) as string;
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    cat?: string;
    name: string;
    ts: number;
    dur: number;
    args?: { op_name?: string };
  }[];
  const runs = events.filter((e) => e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const from = runs[3]?.ts ?? 0;
  const sums: Record<string, number> = {};
  for (const e of events)
    if (e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= from) {
      const op = e.args?.op_name ?? '?';
      sums[op] = (sums[op] ?? 0) + e.dur / 1000 / PROFILE_RUNS;
    }
  byOp[name] = sums;
}
rmSync(dir, { recursive: true, force: true });

const [mf, mi] = ms.map(median) as [number, number];
const loadEnd = loadavg()[0] ?? 0;
const ops = [...new Set(Object.values(byOp).flatMap((o) => Object.keys(o)))]
  .map((op) => ({ op, fp32: byOp.fp32?.[op] ?? 0, int8: byOp.int8?.[op] ?? 0 }))
  .sort((a, b) => Math.max(b.fp32, b.int8) - Math.max(a.fp32, a.int8));
const total = (k: 'fp32' | 'int8'): number => ops.reduce((a, o) => a + o[k], 0);
const result = {
  source: 'bench/int8-decoder.bench.ts',
  machine: { ...machineInfo(), loadAverage1mStart: +loadStart.toFixed(2), loadAverage1mEnd: +loadEnd.toFixed(2) },
  threads: THREADS,
  originalSize: SIZE,
  quantizeSeconds,
  summary: q.summary.quantized,
  bytes: { fp32: fp32.length, int8: q.bytes.length },
  msPerPrompt: { fp32: ms[0], int8: ms[1] },
  medianMsPerPrompt: { fp32: mf, int8: mi },
  int8OverFp32: mi / mf,
  kernelMsPerRunByOp: ops,
};
writeResult(resolve(import.meta.dirname, 'results/int8-decoder.json'), JSON.stringify(result, null, 2));
const m = result.machine;
const f1 = (x: number): string => x.toFixed(1);
const md = [
  '# Exported decoder: FP32 vs static INT8 (QDQ), one run',
  '',
  `Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.date}; load average (1 min) ${m.loadAverage1mStart} at the start, ${m.loadAverage1mEnd} at the end (shared machine: the ratio counts, runs interleaved).`,
  `onnxruntime-node, ${THREADS} intra-op threads, memory arena on; one box prompt, masks at ${SIZE[1]}x${SIZE[0]}; median of ${RUNS} runs per model after 3 warm-up runs. INT8: ${JSON.stringify(q.summary.quantized)}, the prompt encoder kept float (\`optimize\`'s default excludes).`,
  '',
  '| model | bytes | ms per prompt (median) |',
  '| --- | ---: | ---: |',
  `| FP32 | ${(fp32.length / 1e6).toFixed(1)} MB | ${f1(mf)} |`,
  `| INT8 | ${(q.bytes.length / 1e6).toFixed(1)} MB | ${f1(mi)} (${(mi / mf).toFixed(2)}x FP32) |`,
  '',
  `## Kernel time by op type (onnxruntime profile, ms per run, mean of ${PROFILE_RUNS})`,
  '',
  '| op | FP32 | INT8 |',
  '| --- | ---: | ---: |',
  ...ops.filter((o) => Math.max(o.fp32, o.int8) >= 0.2).map((o) => `| ${o.op} | ${f1(o.fp32)} | ${f1(o.int8)} |`),
  `| all kernels | ${f1(total('fp32'))} | ${f1(total('int8'))} |`,
  '',
  'Command: `pnpm bench:int8-decoder` (options `--runs N`, `--threads N`).',
];
writeResult(resolve(import.meta.dirname, 'results/int8-decoder.md'), md.join('\n'));
console.log(md.join('\n'));
