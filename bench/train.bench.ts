/**
 * `pnpm bench:train`: seconds per training epoch on plant-seg-coco `train` (default recipe: box
 * prompts, all instances, batch 2 images, micro-batch 4, Adam) for the tfjs backend in use, and the
 * time of the first pass (embedding every image into an EMPTY cache), plus one validation pass.
 * Writes bench/results/train.json and train.md with the machine.
 *
 *   pnpm bench:train [--epochs 1] [--checkpoint <path>] [--data-root <dir>] [--no-ort-kernels]
 *   pnpm bench:train --from-run runs/<name>   derive the figures from a finished training run
 *                                            (its state: per-epoch wall times, first-pass time)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Adam, defaultTrainConfig, loadRunState, trainEpoch } from '@samtune/trainer';
import { evaluate, openDataset, openModel, pickSubset, setupRuntime, TargetStore } from '@samtune/evaluation';
import { machineInfo, median, writeResult } from './machine.js';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '1' },
    checkpoint: {
      type: 'string',
      default: resolve(import.meta.dirname, '../../shared/fixtures/sam-reference/tinyvit.pth'),
    },
    'data-root': { type: 'string', default: resolve(import.meta.dirname, '../../shared/datasets/plant-seg-coco') },
    'no-ort-kernels': { type: 'boolean', default: false },
    'from-run': { type: 'string' },
    out: { type: 'string', default: resolve(import.meta.dirname, 'results') },
  },
});

interface Result {
  source: string;
  machine: ReturnType<typeof machineInfo>;
  backend: string;
  dataset: string;
  checkpoint: string;
  trainImages: number;
  trainPrompts: number;
  stepsPerEpoch: number;
  /** First pass: embedding every image into an empty cache (seconds). */
  firstPassSeconds: number;
  firstPassImages: number;
  epochSeconds: number[];
  medianEpochSeconds: number;
  secondsPerPrompt: number;
  validationSeconds: number[];
  validationPrompts: number;
}

async function measure(): Promise<Result> {
  const c = defaultTrainConfig();
  const runtime = await setupRuntime('', !values['no-ort-kernels']);
  const dataset = await openDataset(values['data-root'] as string, 'auto');
  const train = pickSubset(dataset, 'train', ['train']);
  const val = pickSubset(dataset, 'auto');
  const cacheDir = mkdtempSync(join(tmpdir(), 'samtune-bench-train-'));
  try {
    const model = await openModel(values.checkpoint as string, cacheDir);
    const fill = await model.cache.fill(
      train.items.map((i) => i.imagePath),
      (p) => process.stderr.write(`\rembedding ${p.done}/${p.total}`),
    );
    process.stderr.write('\n');
    await model.cache.fill(val.items.map((i) => i.imagePath));
    const targets = new TargetStore(0, false);
    for (const item of [...train.items, ...val.items]) await targets.get(item);
    const optimizer = new Adam(Object.fromEntries(model.predictor.trainableVariables()), c.optimizer);
    const epochSeconds: number[] = [];
    const validationSeconds: number[] = [];
    let prompts = 0;
    let steps = 0;
    let valPrompts = 0;
    for (let epoch = 1; epoch <= Number(values.epochs); epoch++) {
      const t0 = performance.now();
      const totals = await trainEpoch({
        config: c,
        predictor: model.predictor,
        optimizer,
        cache: model.cache,
        targets,
        items: train.items,
        epoch,
        onEvent: (e) => e.type === 'step' && process.stderr.write(`\repoch ${epoch} step ${e.step}/${e.steps}`),
      });
      epochSeconds.push((performance.now() - t0) / 1000);
      process.stderr.write(` ${epochSeconds.at(-1)?.toFixed(1)}s\n`);
      prompts = totals.prompts;
      steps = totals.steps;
      const t1 = performance.now();
      const m = await evaluate({
        predictor: model.predictor,
        cache: model.cache,
        targets,
        items: val.items,
        prompt: c.prompt,
        maxInstances: 0,
        microBatch: c.training.microBatch,
      });
      validationSeconds.push((performance.now() - t1) / 1000);
      valPrompts = m.instances;
    }
    model.dispose();
    const med = median(epochSeconds);
    return {
      source: `measured by bench/train.bench.ts (${values.epochs} epoch(s), empty embedding cache)`,
      machine: machineInfo(),
      backend: runtime.detail,
      dataset: values['data-root'] as string,
      checkpoint: values.checkpoint as string,
      trainImages: train.items.length,
      trainPrompts: prompts,
      stepsPerEpoch: steps,
      firstPassSeconds: fill.seconds,
      firstPassImages: fill.total,
      epochSeconds,
      medianEpochSeconds: med,
      secondsPerPrompt: med / prompts,
      validationSeconds,
      validationPrompts: valPrompts,
    };
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

async function fromRun(dir: string): Promise<Result> {
  const { meta } = loadRunState(join(dir, 'state.safetensors'));
  const dataset = await openDataset(meta.config.data.root, meta.config.data.format);
  const trainImages = pickSubset(dataset, meta.config.data.train.subset, [meta.config.data.train.subset]).items.length;
  const h = meta.history;
  if (h.length === 0) throw new Error(`bench:train --from-run ${dir}: the run has no finished epoch`);
  const epochSeconds = h.map((r) => r.trainSeconds);
  const med = median(epochSeconds);
  const prompts = h[0]?.prompts ?? 0;
  return {
    source: `derived from the training run ${dir} (state.safetensors: per-epoch wall times and the first embedding pass of that run; the machine was shared, see loadAverage1m at the time of derivation)`,
    machine: machineInfo(),
    backend: meta.backend,
    dataset: meta.config.data.root,
    checkpoint: meta.baseCheckpoint.path,
    trainImages,
    trainPrompts: prompts,
    stepsPerEpoch: h[0]?.steps ?? 0,
    firstPassSeconds: meta.embeddingPass?.seconds ?? Number.NaN,
    firstPassImages: meta.embeddingPass ? meta.embeddingPass.computed + meta.embeddingPass.hits : 0,
    epochSeconds,
    medianEpochSeconds: med,
    secondsPerPrompt: med / prompts,
    validationSeconds: h.map((r) => r.valSeconds),
    validationPrompts: h[0]?.val.instances ?? 0,
  };
}

const result = values['from-run'] ? await fromRun(resolve(values['from-run'])) : await measure();
const outDir = values.out as string;
writeResult(join(outDir, 'train.json'), JSON.stringify(result, null, 2));
const m = result.machine;
const md = [
  '# Training: seconds per epoch and first (embedding) pass',
  '',
  `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.date} (load average ${m.loadAverage1m}).`,
  `Backend: ${result.backend}.`,
  `Source: ${result.source}.`,
  '',
  `Dataset \`${result.dataset}\` train: ${result.trainImages} images, ${result.trainPrompts} box prompts per epoch, ${result.stepsPerEpoch} optimizer steps (batch 2 images, micro-batch 4 prompts); checkpoint \`${result.checkpoint}\`.`,
  '',
  '| measure | value |',
  '| --- | ---: |',
  `| first pass: embedding ${result.firstPassImages} images into an empty cache | ${result.firstPassSeconds.toFixed(1)} s (${(result.firstPassSeconds / Math.max(1, result.firstPassImages)).toFixed(2)} s/image) |`,
  `| training epoch (decoder only, embeddings cached), median of ${result.epochSeconds.length} | ${result.medianEpochSeconds.toFixed(1)} s |`,
  `| per prompt (forward + backward + Adam share) | ${result.secondsPerPrompt.toFixed(3)} s |`,
  `| validation pass (${result.validationPrompts} prompts, metrics at original size), median | ${median(result.validationSeconds).toFixed(1)} s |`,
  '',
  `Per epoch (s): ${result.epochSeconds.map((s) => s.toFixed(1)).join(', ')}.`,
  '',
  'Command: `pnpm bench:train` (measures one epoch from an empty cache) or `pnpm bench:train --from-run runs/<name>`.',
];
writeResult(join(outDir, 'train.md'), md.join('\n'));
console.log(md.join('\n'));
