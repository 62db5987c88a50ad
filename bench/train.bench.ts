/**
 * `pnpm bench:train`: the decoder training step of both engines in ONE run, and a full training
 * epoch on plant-seg-coco with cached embeddings.
 *
 * 1. ms/prompt of one optimizer step (forward + loss + backward over micro-batches of
 *    `training.microBatch` = 4 prompts, gradient accumulation, Adam) with 1 and 8 box prompts of one
 *    image, for `--engine tfjs` (tfjs-wasm + the ORT matmul kernels, the reference), `--engine ort`
 *    (forward + backward + Adam as onnxruntime-node graphs, the default `runtime.ortArena`: the
 *    sessions of full micro-batches and of single prompts keep onnxruntime's memory arena) and
 *    `ort-no-arena` (`runtime.ortArena` false, the least memory). The variants alternate rep by
 *    rep, so all see the same machine load; medians. Weights: ../shared/fixtures/sam-reference/tinyvit.pth,
 *    the dog.jpg embedding and boxes/targets of tinyvit_train_step.safetensors (cycled).
 * 2. One plant-seg-coco `train` epoch (default recipe: batch 2 images, all instances, micro-batch 4)
 *    per variant in `--epoch-engines` (default `ort,ort-no-arena`), embeddings cached and read once
 *    beforehand (not timed).
 *
 *   pnpm bench:train [--reps 5] [--epoch-engines ort,ort-no-arena,tfjs | none] [--cache-dir <dir>]
 *
 * Writes bench/results/train.json and train.md with the machine (cores, load average, Node, ORT).
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { ortVersion } from '@samtune/onnx';
import { SAM_PRESETS, type FloatTensor } from '@samtune/sam-model';
import { readSafetensors, readTorchCheckpoint } from '@samtune/tensor-files';
import { openDataset, openModel, pickSubset, setupRuntime } from '@samtune/evaluation';
import { TargetStore } from '@samtune/training-data';
import {
  createTrainEngine,
  ortArenaBatches,
  defaultTrainConfig,
  trainEpoch,
  TrainState,
  type TrainEngineName,
} from '@samtune/trainer';
import { machineInfo, median, writeResult } from './machine.js';
import { cycledMicroBatches } from './prompt-batches.js';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    'epoch-engines': { type: 'string', default: 'ort,ort-no-arena' },
    'cache-dir': { type: 'string' },
    'data-root': { type: 'string', default: resolve(import.meta.dirname, '../../shared/datasets/plant-seg-coco') },
    out: { type: 'string', default: resolve(import.meta.dirname, 'results') },
  },
});
const REF = resolve(import.meta.dirname, '../../shared/fixtures/sam-reference');
/** A measured variant: an engine, and for `ort-no-arena` the ort engine without its memory arenas (`runtime.ortArena` false). */
type Variant = 'tfjs' | 'ort' | 'ort-no-arena';
const VARIANTS: readonly Variant[] = ['tfjs', 'ort', 'ort-no-arena'];
const engineOf = (v: Variant): TrainEngineName => (v === 'tfjs' ? 'tfjs' : 'ort');
const SIZES = [1, 8] as const;
const MICRO = defaultTrainConfig().training.microBatch;

interface StepResult {
  prompts: number;
  engine: Variant;
  msPerPrompt: number[];
  medianMsPerPrompt: number;
}

interface EpochResult {
  engine: Variant;
  seconds: number;
  prompts: number;
  steps: number;
  msPerPrompt: number;
  trainLoss: number;
}

const loadStart = loadavg()[0] ?? 0;
const runtime = await setupRuntime('', true);
const weights = readTorchCheckpoint(join(REF, 'tinyvit.pth'));
const fixture = readSafetensors(join(REF, 'tinyvit_train_step.safetensors')).tensors;
const embedding = readSafetensors(join(REF, 'tinyvit_outputs.safetensors')).tensors.get('dog.image_embeddings');
if (!embedding || embedding.dtype !== 'float32') throw new Error('bench:train: no dog.image_embeddings in the fixture');
const fBoxes = fixture.get('boxes_1024')?.data as Float32Array;
const fMasks = fixture.get('gt_masks')?.data as Float32Array;

async function stepBench(): Promise<StepResult[]> {
  const reps = Number(values.reps);
  const results: StepResult[] = [];
  for (const n of SIZES) {
    const mbs = cycledMicroBatches(fBoxes, fMasks, n, MICRO);
    const setups = VARIANTS.map((engine) => {
      const arena = engine === 'ort' ? { arenaBatches: ortArenaBatches(MICRO) } : {};
      const context = { config: SAM_PRESETS.tiny_vit, weights, adam: { lr: 1e-5 }, ...arena };
      const stepper = createTrainEngine(engineOf(engine), context);
      stepper.load(TrainState.fromCheckpoint(weights));
      return { engine, stepper, ms: [] as number[] };
    });
    const once = (s: (typeof setups)[number]): number => {
      const t0 = performance.now();
      for (const { batch, targets } of mbs)
        s.stepper.accumulate(embedding as FloatTensor, batch, targets, batch.size / n);
      s.stepper.step(1e-5);
      return performance.now() - t0;
    };
    for (const s of setups) once(s); // warm-up: builds the ort sessions, tfjs kernels
    for (let r = 0; r < reps; r++) {
      for (const s of setups) {
        s.ms.push(once(s) / n);
        process.stderr.write(
          `\r${n} prompt(s), rep ${r + 1}/${reps}, ${s.engine}: ${s.ms.at(-1)?.toFixed(0)} ms/prompt   `,
        );
      }
    }
    process.stderr.write('\n');
    for (const s of setups) {
      s.stepper.dispose();
      results.push({ prompts: n, engine: s.engine, msPerPrompt: s.ms, medianMsPerPrompt: median(s.ms) });
    }
  }
  return results;
}

async function epochBench(engines: readonly Variant[]): Promise<EpochResult[]> {
  if (engines.length === 0) return [];
  const c = defaultTrainConfig();
  if (values['cache-dir']) c.runtime.cacheDir = values['cache-dir'];
  const dataset = await openDataset(values['data-root'] as string, 'auto');
  const train = pickSubset(dataset, 'train', ['train']);
  const model = await openModel(join(REF, 'tinyvit.pth'), c.runtime.cacheDir);
  const out: EpochResult[] = [];
  try {
    await model.cache.fill(
      train.items.map((i) => i.imagePath),
      (p) => process.stderr.write(`\rembedding ${p.done}/${p.total}`),
    );
    process.stderr.write('\n');
    // read every cached embedding once (not timed), so that the first variant does not pay for
    // cold file reads the later ones get from the page cache
    for (const item of train.items) await model.cache.get(item.imagePath);
    const targets = new TargetStore(0, false);
    for (const item of train.items) await targets.get(item);
    for (const engine of engines) {
      const config = { ...c, runtime: { ...c.runtime, engine: engineOf(engine), ortArena: engine === 'ort' } };
      const { config: samConfig, weights: checkpointWeights } = model.checkpoint;
      const trainer = createTrainEngine(config.runtime.engine, {
        config: samConfig,
        weights: checkpointWeights,
        adam: c.optimizer,
        ...(config.runtime.ortArena ? { arenaBatches: ortArenaBatches(c.training.microBatch) } : {}),
      });
      trainer.load(TrainState.fromCheckpoint(checkpointWeights)); // every variant starts from the same weights
      const t0 = performance.now();
      const totals = await trainEpoch({
        config,
        engine: trainer,
        cache: model.cache,
        targets,
        items: train.items,
        epoch: 1,
        onEvent: (e) => e.type === 'step' && process.stderr.write(`\r${engine} epoch step ${e.step}/${e.steps}`),
      });
      const seconds = (performance.now() - t0) / 1000;
      process.stderr.write(` ${seconds.toFixed(1)} s\n`);
      out.push({
        engine,
        seconds,
        prompts: totals.prompts,
        steps: totals.steps,
        msPerPrompt: (seconds * 1000) / totals.prompts,
        trainLoss: totals.loss,
      });
      trainer.dispose();
    }
  } finally {
    model.dispose();
  }
  return out;
}

const steps = await stepBench();
const epochEngines = values['epoch-engines'] === 'none' ? [] : (values['epoch-engines'] as string).split(',');
const epochs = await epochBench(epochEngines as Variant[]);
const loadEnd = loadavg()[0] ?? 0;
const ms = (engine: Variant, n: number): number =>
  steps.find((s) => s.engine === engine && s.prompts === n)?.medianMsPerPrompt ?? Number.NaN;
const ratios = Object.fromEntries(SIZES.map((n) => [n, ms('ort', n) / ms('tfjs', n)]));
const noArenaRatios = Object.fromEntries(SIZES.map((n) => [n, ms('ort-no-arena', n) / ms('tfjs', n)]));
const result = {
  source: `bench/train.bench.ts (${values.reps} reps per engine and size, engines alternating)`,
  machine: { ...machineInfo(), loadAverage1mStart: +loadStart.toFixed(2), loadAverage1mEnd: +loadEnd.toFixed(2) },
  onnxruntimeNode: ortVersion(),
  tfjsBackend: runtime.detail,
  microBatch: MICRO,
  steps,
  ortOverTfjs: ratios,
  ortNoArenaOverTfjs: noArenaRatios,
  epochs,
  dataset: values['data-root'],
};
writeResult(join(values.out as string, 'train.json'), JSON.stringify(result, null, 2));
const m = result.machine;
const md = [
  '# Training: ort engine vs tfjs engine (decoder step) and a plant-seg-coco epoch',
  '',
  `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, onnxruntime-node ${result.onnxruntimeNode}, ${m.date}.`,
  `Load average (1 min): ${m.loadAverage1mStart} at the start, ${m.loadAverage1mEnd} at the end: the machine is SHARED and was busy with other work, so absolute times are noisy (they move by 2x and more); the ratio of the two engines, measured rep by rep in the same run, is what counts.`,
  `tfjs engine: ${result.tfjsBackend}. ort engine: onnxruntime-node graphs (forward + loss + backward + Adam), graph optimisation 'all', 2 intra-op threads, with the default \`runtime.ortArena\` (the sessions of full micro-batches and of single prompts keep onnxruntime's CPU memory arena, ~90 MB a prompt, given back after each epoch's training pass); \`ort, no arena\`: \`runtime.ortArena\` false, the least memory.`,
  '',
  `## Decoder training step (box prompts, one image, micro-batches of ${MICRO}, Adam), ms per prompt, median of ${values.reps}`,
  '',
  '| prompts | tfjs engine | ort engine | ort / tfjs | ort, no arena | (ort, no arena) / tfjs |',
  '| ---: | ---: | ---: | ---: | ---: | ---: |',
  ...SIZES.map(
    (n) =>
      `| ${n} | ${ms('tfjs', n).toFixed(0)} | ${ms('ort', n).toFixed(0)} | ${(ratios[n] as number).toFixed(3)} | ${ms('ort-no-arena', n).toFixed(0)} | ${(noArenaRatios[n] as number).toFixed(3)} |`,
  ),
  '',
  ...steps.map(
    (s) => `- ${s.engine}, ${s.prompts} prompt(s): ${s.msPerPrompt.map((x) => x.toFixed(0)).join(', ')} ms/prompt`,
  ),
  '',
  ...(epochs.length > 0
    ? [
        `## One plant-seg-coco train epoch (${epochs[0]?.prompts} box prompts, ${epochs[0]?.steps} steps, embeddings cached)`,
        '',
        '| engine | seconds | ms per prompt | train loss |',
        '| --- | ---: | ---: | ---: |',
        ...epochs.map(
          (e) => `| ${e.engine} | ${e.seconds.toFixed(1)} | ${e.msPerPrompt.toFixed(0)} | ${e.trainLoss.toFixed(4)} |`,
        ),
        '',
      ]
    : []),
  'Command: `pnpm bench:train` (options: `--reps N`, `--epoch-engines ort,ort-no-arena,tfjs|none`, `--cache-dir DIR`).',
];
writeResult(join(values.out as string, 'train.md'), md.join('\n'));
console.log(md.join('\n'));
