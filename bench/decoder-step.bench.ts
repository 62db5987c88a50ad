/**
 * Mask-decoder training cost on CPU: stock tfjs-wasm kernels vs the ORT-backed kernels of
 * `installOrtKernels` (BatchMatMul/_FusedMatMul/Sum/Tile on onnxruntime-node, zero copy).
 *
 * 1. ms per matmul for the shapes that dominate SAM's mask decoder (8 heads over 64x64 = 4096 image
 *    tokens, 7 tokens for a box prompt, 256-d model, 128-d cross-attention, MLP 2048, the
 *    hypernetwork product), forward and the backward forms tfjs derives (transposed operands).
 * 2. ms per full decoder training step (prompt encoder + mask decoder forward, loss, tf.variableGrads
 *    over every mask-decoder tensor) with box prompts, micro-batches of 1, 2 and 4 prompts.
 *    Weights: the MobileSAM reference checkpoint ../shared/fixtures/sam-reference/tinyvit.pth (its
 *    decoder has SAM's exact decoder shapes); the image embedding is random.
 *
 * Run from the repo root: pnpm bench:decoder
 * Options (env): BENCH_REPS (matmul timing reps, default 20), BENCH_STEPS (timed training steps per
 * setting, default 5), BENCH_BATCHES (default "1,2,4").
 * Writes bench/results/decoder-step.{json,md}. Timings are medians; the machine may be shared.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { SAM_PRESETS, SamPredictor, initBackend, installOrtKernels, type OrtKernelsHandle } from '@samtune/sam-model';
import { readTorchCheckpoint } from '@samtune/tensor-files';
import { samLossOn } from '@samtune/losses';
import { ortVersion } from '@samtune/onnx';
import { median } from './machine.js';

type Tensor = tf.Tensor;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPS = Number(process.env.BENCH_REPS ?? 20);
const STEPS = Number(process.env.BENCH_STEPS ?? 5);
const BATCHES = (process.env.BENCH_BATCHES ?? '1,2,4').split(',').map(Number);

const round = (x: number, d = 3): number => Number(x.toFixed(d));

/** Median ms of `f()` (each result disposed) after `warm` untimed calls. */
function timeMs(f: () => Tensor, reps: number, warm = 2): number {
  for (let i = 0; i < warm; i++) f().dispose();
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    const r = f();
    xs.push(performance.now() - t);
    r.dispose();
  }
  return median(xs);
}

function withOrt<T>(f: (h: OrtKernelsHandle) => T): T {
  const h = installOrtKernels();
  if (!h.installed) throw new Error(`bench: ORT kernels not installed: ${h.reason}`);
  try {
    return f(h);
  } finally {
    h.uninstall();
  }
}

interface MatMulCase {
  name: string;
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

/** The decoder's dominant products for `b` prompts (8 heads, 4096 image tokens, 7 tokens). */
function matmulCases(b: number): MatMulCase[] {
  const h = b * 8;
  const c = (name: string, a: number[], bb: number[], transposeA = false, transposeB = false): MatMulCase => ({
    name,
    a,
    b: bb,
    transposeA,
    transposeB,
  });
  return [
    c('token→image logits q·kᵀ', [h, 7, 16], [h, 4096, 16], false, true),
    c('token→image attn·v', [h, 7, 4096], [h, 4096, 16]),
    c('image→token logits q·kᵀ', [h, 4096, 16], [h, 7, 16], false, true),
    c('image→token attn·v', [h, 4096, 7], [h, 7, 16]),
    c('image→token attn·v, grad attn (dy·vᵀ)', [h, 4096, 16], [h, 7, 16], false, true),
    c('token→image attn·v, grad v (attnᵀ·dy)', [h, 7, 4096], [h, 7, 16], true, false),
    c('linear 256→128 over image tokens', [b * 4096, 256], [128, 256], false, true),
    c('linear 128→256 over image tokens', [b * 4096, 128], [256, 128], false, true),
    c('linear grad W (dyᵀ·x)', [b * 4096, 128], [b * 4096, 256], true, false),
    c('linear grad x (dy·W)', [b * 4096, 128], [128, 256]),
    c('token MLP 256→2048', [b * 7, 256], [2048, 256], false, true),
    c('token MLP 2048→256', [b * 7, 2048], [256, 2048], false, true),
    c('hypernetwork masks [B,4,32]·[B,32,65536]', [b, 4, 32], [b, 32, 65536]),
    c('hypernetwork grad upscaled (hᵀ·dy)', [b, 4, 32], [b, 4, 65536], true, false),
    c('hypernetwork grad h (dy·upᵀ)', [b, 4, 65536], [b, 32, 65536], false, true),
  ];
}

interface MatMulResult extends MatMulCase {
  macs: number;
  stockMs: number;
  ortMs: number;
  speedup: number;
}

function benchMatMuls(b: number): MatMulResult[] {
  const out: MatMulResult[] = [];
  for (const mc of matmulCases(b)) {
    const a = tf.randomNormal(mc.a, 0, 1, 'float32', 1);
    const bb = tf.randomNormal(mc.b, 0, 1, 'float32', 2);
    const f = () => tf.matMul(a, bb, mc.transposeA, mc.transposeB);
    const probe = f();
    const k = mc.transposeA ? (mc.a[mc.a.length - 2] as number) : (mc.a[mc.a.length - 1] as number);
    const macs = probe.size * k;
    probe.dispose();
    const stockMs = timeMs(f, REPS);
    const ortMs = withOrt(() => timeMs(f, REPS));
    out.push({ ...mc, macs, stockMs: round(stockMs), ortMs: round(ortMs), speedup: round(stockMs / ortMs, 2) });
    console.log(
      `  ${mc.name.padEnd(44)} [${mc.a}]${mc.transposeA ? 'ᵀ' : ''} x [${mc.b}]${mc.transposeB ? 'ᵀ' : ''}: stock ${stockMs.toFixed(2)} ms, ort ${ortMs.toFixed(2)} ms (${(stockMs / ortMs).toFixed(1)}x)`,
    );
    tf.dispose([a, bb]);
  }
  return out;
}

interface StepResult {
  prompts: number;
  stockMsPerStep: number;
  ortMsPerStep: number;
  stockMsPerPrompt: number;
  ortMsPerPrompt: number;
  speedup: number;
  stockStepsMs: number[];
  ortStepsMs: number[];
  /** Process CPU time (user+sys, all threads) per step, median: less sensitive to other jobs than wall time. */
  stockCpuMsPerStep: number;
  ortCpuMsPerStep: number;
  /** stock CPU time / ORT CPU time. */
  cpuSpeedup: number;
  loadavg: string;
  ortKernelCalls: Record<string, { ort: number; fallback: number }>;
}

/** Random XYXY boxes in the 1024 frame. */
function randomBoxes(n: number): Float32Array {
  const out = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const x0 = 100 + 97 * i;
    const y0 = 150 + 61 * i;
    out.set([x0, y0, x0 + 300, y0 + 250], i * 4);
  }
  return out;
}

function benchSteps(predictor: SamPredictor, embedding: Tensor, b: number): StepResult {
  const boxes = tf.tensor(randomBoxes(b), [b, 4]);
  const target = tf.tidy(() =>
    tf.cast(tf.greater(tf.randomUniform([b, 1, 256, 256], 0, 1, 'float32', 3), 0.7), 'float32'),
  );
  const vars = [...predictor.trainableVariables().values()];
  const cpuMs: number[] = [];
  const step = (): number => {
    const t = performance.now();
    const c = process.cpuUsage();
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const { masks, iou } = predictor.decode(embedding, { boxes }, false);
        return samLossOn(predictor.ops, masks, iou, target).loss as tf.Scalar;
      }, vars);
      // read the gradients back (as an optimizer step would consume them) so the timing is complete
      for (const g of Object.values(grads)) g.dataSync();
      value.dataSync();
    });
    const cu = process.cpuUsage(c);
    cpuMs.push((cu.user + cu.system) / 1000);
    return performance.now() - t;
  };
  const run = (): { wall: number[]; cpu: number } => {
    step(); // warm-up (and ORT session creation)
    cpuMs.length = 0;
    const wall = Array.from({ length: STEPS }, step);
    return { wall, cpu: median(cpuMs) };
  };
  const stock = run();
  const stockStepsMs = stock.wall;
  const { ort, counts } = withOrt((h) => ({ ort: run(), counts: structuredClone(h.counts()) }));
  const ortStepsMs = ort.wall;
  tf.dispose([boxes, target]);
  const s = median(stockStepsMs);
  const o = median(ortStepsMs);
  return {
    prompts: b,
    stockMsPerStep: round(s, 1),
    ortMsPerStep: round(o, 1),
    stockMsPerPrompt: round(s / b, 1),
    ortMsPerPrompt: round(o / b, 1),
    speedup: round(s / o, 2),
    stockStepsMs: stockStepsMs.map((x) => round(x, 1)),
    ortStepsMs: ortStepsMs.map((x) => round(x, 1)),
    stockCpuMsPerStep: round(stock.cpu, 1),
    ortCpuMsPerStep: round(ort.cpu, 1),
    cpuSpeedup: round(stock.cpu / ort.cpu, 2),
    loadavg: loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
    ortKernelCalls: Object.fromEntries(
      Object.entries(counts).map(([k, v]) => [
        k,
        { ort: Math.round(v.ort / (STEPS + 1)), fallback: Math.round(v.fallback / (STEPS + 1)) },
      ]),
    ),
  };
}

function markdown(r: {
  machine: Record<string, unknown>;
  matmuls: Record<string, MatMulResult[]>;
  steps: StepResult[];
}): string {
  const m = r.machine;
  const lines = [
    '# Decoder training step: stock tfjs-wasm vs ORT-backed kernels',
    '',
    `Machine: ${String(m.cpu)}, ${String(m.cores)} cores, Node ${String(m.node)}, tfjs ${String(m.tfjs)}, onnxruntime-node ${String(m.onnxruntime)}, ${String(m.date)}.`,
    `Load average at start: ${String(m.loadavgStart)} (the machine was shared with other jobs: timings are noisy; all figures are medians).`,
    '',
    'Command: `pnpm bench:decoder`',
    '',
    '## Full decoder training step (forward + loss + tf.variableGrads over all mask-decoder tensors, box prompts)',
    '',
    '| prompts | stock ms/step | ORT ms/step | stock ms/prompt | ORT ms/prompt | wall speedup | stock CPU ms/step | ORT CPU ms/step | CPU speedup | load avg after |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...r.steps.map(
      (s) =>
        `| ${s.prompts} | ${s.stockMsPerStep} | ${s.ortMsPerStep} | ${s.stockMsPerPrompt} | ${s.ortMsPerPrompt} | ${s.speedup}x | ${s.stockCpuMsPerStep} | ${s.ortCpuMsPerStep} | ${s.cpuSpeedup}x | ${s.loadavg} |`,
    ),
    '',
    'Wall times are medians of the timed steps (after one warm-up step). CPU ms is the median process user+sys time per step over all',
    'threads (ORT uses up to 2): on a machine shared with other jobs it is the steadier measure of cost.',
    '',
    'Kernel calls per step (ORT / stock fallback below the size thresholds), first setting:',
    '',
    ...Object.entries(r.steps[0]?.ortKernelCalls ?? {}).map(([k, v]) => `- ${k}: ${v.ort} / ${v.fallback}`),
    '',
  ];
  for (const [b, rows] of Object.entries(r.matmuls)) {
    lines.push(
      `## Matmuls of the decoder, ${b} prompt(s) (ms per call)`,
      '',
      '| product | A | B | MACs | stock ms | ORT ms | speedup |',
      '| --- | --- | --- | ---: | ---: | ---: | ---: |',
    );
    for (const x of rows) {
      lines.push(
        `| ${x.name} | [${x.a.join(',')}]${x.transposeA ? 'ᵀ' : ''} | [${x.b.join(',')}]${x.transposeB ? 'ᵀ' : ''} | ${(x.macs / 1e6).toFixed(1)}M | ${x.stockMs} | ${x.ortMs} | ${x.speedup}x |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const info = await initBackend('wasm');
  if (info.name !== 'wasm') throw new Error(`bench: expected the wasm backend, got ${info.name}`);
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    tfjs: tf.version.tfjs,
    onnxruntime: ortVersion(),
    date: new Date().toISOString(),
    loadavgStart: loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
  };
  console.log('machine', machine);

  const matmuls: Record<string, MatMulResult[]> = {};
  for (const b of [1, 4]) {
    console.log(`matmuls, ${b} prompt(s):`);
    matmuls[String(b)] = benchMatMuls(b);
  }

  const ckpt = resolve(ROOT, '..', 'shared', 'fixtures', 'sam-reference', 'tinyvit.pth');
  if (!existsSync(ckpt)) throw new Error(`bench: reference checkpoint not found at ${ckpt}`);
  const predictor = new SamPredictor({ config: SAM_PRESETS.tiny_vit, weights: readTorchCheckpoint(ckpt) });
  const embedding = tf.randomNormal([1, 256, 64, 64], 0, 1, 'float32', 7);
  const steps: StepResult[] = [];
  for (const b of BATCHES) {
    const r = benchSteps(predictor, embedding, b);
    console.log(
      `step, ${b} prompt(s): stock ${r.stockMsPerStep} ms (${r.stockMsPerPrompt}/prompt), ort ${r.ortMsPerStep} ms (${r.ortMsPerPrompt}/prompt): ${r.speedup}x`,
    );
    steps.push(r);
  }
  embedding.dispose();
  predictor.dispose();

  const result = {
    machine: {
      ...machine,
      loadavgEnd: loadavg()
        .map((x) => x.toFixed(2))
        .join(' '),
    },
    settings: { reps: REPS, steps: STEPS },
    matmuls,
    steps,
  };
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'decoder-step.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(dir, 'decoder-step.md'), `${markdown(result)}\n`);
  console.log(`wrote ${join(dir, 'decoder-step.json')} and .md`);
}

await main();
