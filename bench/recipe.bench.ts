/**
 * `pnpm bench:recipe`: the cost of the training recipe options on the tfjs engine (tfjs-wasm + the
 * ORT matmul kernels) and on the ort engine (`OrtTrainEngine.accumulate` with the recipe), one
 * micro-batch forward + loss + backward, box prompts of dog.jpg (tinyvit.pth's decoder), in ONE run
 * (engines and cases interleaved) so that the ratios share the machine load:
 *
 * - `loss.resolution lowres` (256x256 loss) vs `original` at 534x800 (dog.jpg) and 1536x2048 (a
 *   3-Mpixel photo: the same embedding, a geometry of that size and a synthetic rectangle target);
 * - `prompt.iterations` 0 vs 2 (3 decoder passes) at lowres.
 *
 * ms/prompt are medians over `--reps`; `peakMB` is tfjs' peak of allocated tensor bytes during the
 * step (`tf.profile`), beyond what was allocated before it.
 *
 *   pnpm bench:recipe [--reps 3] [--prompts 1]
 *
 * Writes bench/results/recipe.json and recipe.md with the machine.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { SAM_PRESETS, SamPredictor, type FloatTensor } from '@samtune/sam-model';
import { readSafetensors, readTorchCheckpoint } from '@samtune/tensor-files';
import { TfjsOps } from '@samtune/sam-model/modeling';

const tfjs = new TfjsOps(new Map());
import { ResizeGeometry } from '@samtune/transforms';
import { setupRuntime } from '@samtune/evaluation';
import { samLossOn } from '@samtune/losses';
import {
  lowResToOriginalTf,
  microBatchGradients,
  OrtTrainEngine,
  recipeGradients,
  type DecoderPromptBatch,
  type MicroBatchRecipe,
  type TrainRecipe,
} from '@samtune/trainer';
import { machineInfo, median, writeResult } from './machine.js';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    prompts: { type: 'string', default: '1' },
    out: { type: 'string', default: resolve(import.meta.dirname, 'results') },
  },
});
const reps = Number(values.reps);
const B = Number(values.prompts);
const ref = resolve(import.meta.dirname, '../../shared/fixtures/sam-reference');
const runtime = await setupRuntime('wasm', true);
const checkpointWeights = readTorchCheckpoint(join(ref, 'tinyvit.pth'));
const predictor = new SamPredictor({ config: SAM_PRESETS.tiny_vit, weights: checkpointWeights });
const ortEngine = new OrtTrainEngine({ config: SAM_PRESETS.tiny_vit, weights: checkpointWeights, intraOpThreads: 2 });
const emb = readSafetensors(join(ref, 'tinyvit_outputs.safetensors')).tensors.get(
  'dog.image_embeddings',
) as FloatTensor;
const boxes = readSafetensors(join(ref, 'tinyvit_train_step.safetensors')).tensors.get('boxes_1024') as FloatTensor;
const embedding = tf.tensor(emb.data, [...emb.shape]);
const box = Array.from({ length: B }, (_, i) => [
  ...boxes.data.subarray((i % 3 === 1 ? 0 : i % 3) * 4, (i % 3 === 1 ? 0 : i % 3) * 4 + 4),
]).flat();
const batch: DecoderPromptBatch = { size: B, boxes: Float32Array.from(box), numPoints: 0 };

interface Case {
  name: string;
  size: [number, number];
  recipe: TrainRecipe;
}
const cases: Case[] = [
  { name: 'lowres', size: [534, 800], recipe: { resolution: 'lowres', iterations: 0 } },
  { name: 'original 534x800', size: [534, 800], recipe: { resolution: 'original', iterations: 0 } },
  { name: 'original 1536x2048', size: [1536, 2048], recipe: { resolution: 'original', iterations: 0 } },
  { name: 'lowres, iterations 2', size: [534, 800], recipe: { resolution: 'lowres', iterations: 2 } },
];

function targetsOf(size: [number, number]): { low: Float32Array; full: Float32Array } {
  const [H, W] = size;
  const full = new Float32Array(B * H * W);
  for (let b = 0; b < B; b++)
    for (let y = Math.floor(H * 0.2); y < Math.floor(H * 0.7); y++)
      full.fill(1, b * H * W + y * W + Math.floor(W * 0.25), b * H * W + y * W + Math.floor(W * 0.7));
  const low = new Float32Array(B * 65536);
  for (let b = 0; b < B; b++)
    for (let y = 40; y < 150; y++) low.fill(1, b * 65536 + y * 256 + 60, b * 65536 + y * 256 + 180);
  return { low, full };
}

function recipeOf(c: Case): MicroBatchRecipe {
  return {
    recipe: c.recipe,
    geometry: new ResizeGeometry(c.size),
    ...(c.recipe.resolution === 'original' ? { originalTargets: targetsOf(c.size).full } : {}),
    seed: 0,
    labels: ['bench'],
  };
}

/** The same micro-batch on the ort engine (gradients accumulated in its buffer), ms per prompt. */
function ortStep(c: Case): number {
  const { low } = targetsOf(c.size);
  const r = recipeOf(c);
  const t0 = performance.now();
  ortEngine.accumulate(emb, batch, low, 1, r);
  return (performance.now() - t0) / B;
}

async function step(c: Case): Promise<{ ms: number; peakMB: number }> {
  const geometry = new ResizeGeometry(c.size);
  const { low, full } = targetsOf(c.size);
  let ms = 0;
  const info = await tf.profile(() => {
    const t0 = performance.now();
    const { grads } =
      c.recipe.resolution === 'lowres' && c.recipe.iterations === 0
        ? microBatchGradients(predictor, embedding, batch, tf.tensor(low, [B, 1, 256, 256]))
        : recipeGradients(predictor, embedding, batch, low, 1, {
            recipe: c.recipe,
            geometry,
            ...(c.recipe.resolution === 'original' ? { originalTargets: full } : {}),
            seed: 0,
            labels: ['bench'],
          });
    for (const g of grads.values()) g.dataSync();
    ms = performance.now() - t0;
    tf.dispose([...grads.values()]);
  });
  return { ms: ms / B, peakMB: (info.peakBytes - tf.memory().numBytes) / 2 ** 20 };
}

/** Forward + backward of the loss head alone (no decoder): samLoss of [1,1,256,256] logits, or of them post-processed. */
async function lossHead(size: [number, number] | undefined): Promise<{ ms: number; peakMB: number }> {
  const x = tf.randomNormal([1, 1, 256, 256], 0, 3, 'float32', 1);
  const [H, W] = size ?? [256, 256];
  const t = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([1, 1, H, W], 0, 1, 'float32', 2), 0.6), 'float32'));
  const geometry = size ? new ResizeGeometry(size) : undefined;
  let ms = 0;
  const info = await tf.profile(() => {
    const t0 = performance.now();
    const g = tf.grad(
      (l: tf.Tensor) => samLossOn(tfjs, geometry ? lowResToOriginalTf(l, geometry) : l, tf.tensor2d([[0.5]]), t).loss,
    )(x);
    g.dataSync();
    ms = performance.now() - t0;
    g.dispose();
  });
  const peakMB = (info.peakBytes - tf.memory().numBytes) / 2 ** 20;
  tf.dispose([x, t]);
  return { ms, peakMB };
}
const heads: { name: string; ms: number[]; medianMs: number; peakMB: number }[] = [];
for (const [name, size] of [
  ['loss head 256x256 (lowres)', undefined],
  ['loss head 534x800 (original)', [534, 800]],
  ['loss head 1536x2048 (original)', [1536, 2048]],
] as const) {
  await lossHead(size ? [size[0], size[1]] : undefined); // warm-up (and the matrices' cache)
  const ms: number[] = [];
  let peakMB = 0;
  for (let r = 0; r < Math.max(5, reps); r++) {
    const h = await lossHead(size ? [size[0], size[1]] : undefined);
    ms.push(+h.ms.toFixed(1));
    peakMB = Math.max(peakMB, +h.peakMB.toFixed(1));
  }
  heads.push({ name, ms, medianMs: median(ms), peakMB });
  process.stderr.write(`${name}: ${median(ms).toFixed(0)} ms, peak ${peakMB.toFixed(0)} MB\n`);
}

const rows: { name: string; msPerPrompt: number[]; medianMsPerPrompt: number; peakMB: number }[] = [];
const ortRows: { name: string; msPerPrompt: number[]; medianMsPerPrompt: number }[] = [];
for (const c of cases) {
  rows.push({ name: c.name, msPerPrompt: [], medianMsPerPrompt: 0, peakMB: 0 });
  ortRows.push({ name: c.name, msPerPrompt: [], medianMsPerPrompt: 0 });
}
await step(cases[0] as Case); // warm-up
for (const c of cases) ortStep(c); // warm-up: records and loads the ort engine's graphs of each case
for (let r = 0; r < reps; r++) {
  for (const [i, c] of cases.entries()) {
    const s = await step(c);
    const row = rows[i] as (typeof rows)[number];
    row.msPerPrompt.push(+s.ms.toFixed(1));
    row.peakMB = Math.max(row.peakMB, +s.peakMB.toFixed(1));
    const o = ortStep(c);
    (ortRows[i] as (typeof ortRows)[number]).msPerPrompt.push(+o.toFixed(1));
    process.stderr.write(
      `${c.name}: tfjs ${s.ms.toFixed(0)} ms/prompt (peak ${s.peakMB.toFixed(0)} MB), ort ${o.toFixed(0)}\n`,
    );
  }
}
for (const row of [...rows, ...ortRows]) row.medianMsPerPrompt = median(row.msPerPrompt);
ortEngine.dispose();
const base = rows[0]?.medianMsPerPrompt ?? Number.NaN;
const result = {
  source: `bench/recipe.bench.ts (${reps} reps, ${B} box prompt(s) per micro-batch, cases interleaved)`,
  machine: machineInfo(),
  tfjsBackend: runtime.detail,
  lossHeads: heads,
  rows,
  overLowres: Object.fromEntries(rows.map((r) => [r.name, +(r.medianMsPerPrompt / base).toFixed(2)])),
  ortRows,
  ortOverTfjs: Object.fromEntries(
    ortRows.map((o, i) => [o.name, +(o.medianMsPerPrompt / (rows[i]?.medianMsPerPrompt ?? NaN)).toFixed(3)]),
  ),
};
writeResult(join(values.out as string, 'recipe.json'), JSON.stringify(result, null, 2));
const m = result.machine;
writeResult(
  join(values.out as string, 'recipe.md'),
  [
    `# Training recipe options: cost per prompt (tfjs engine and ort engine)`,
    '',
    `${result.source}; ${JSON.stringify(m)}; tfjs: ${runtime.detail}; ort: onnxruntime-node graphs, 2 intra-op threads`,
    '',
    '| case | tfjs ms/prompt (median) | x lowres | peak tensor MB | ort ms/prompt (median) | ort / tfjs |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r, i) => {
      const o = ortRows[i]?.medianMsPerPrompt ?? Number.NaN;
      return `| ${r.name} | ${r.medianMsPerPrompt.toFixed(0)} | ${(r.medianMsPerPrompt / base).toFixed(2)} | ${r.peakMB.toFixed(0)} | ${o.toFixed(0)} | ${(o / r.medianMsPerPrompt).toFixed(3)} |`;
    }),
    '',
    'The loss head alone (forward + backward of `samLoss` on one mask, no decoder; the extra cost of `original`):',
    '',
    '| case | ms (median) | peak tensor MB |',
    '| --- | ---: | ---: |',
    ...heads.map((h) => `| ${h.name} | ${h.medianMs.toFixed(0)} | ${h.peakMB.toFixed(0)} |`),
    '',
    'The machine is shared (see loadAverage1m): compare the ratios of one run, not runs.',
  ].join('\n'),
);
predictor.dispose();
