/**
 * `pnpm bench:sam2-decoder`: SAM 2.1's decoder side against SAM 1 TinyViT in the same run, from the
 * fixtures' dog.jpg features (no encoder): one box -> mask at the original size (`predict` with
 * `multimask: 'auto'`; SAM 1 on its ort and tfjs engines, SAM 2.1 on the tfjs `Sam2Predictor` behind
 * `Sam2Model`), and the training step in ms per prompt (`createTrainEngine`, `accumulate` of 4 boxes +
 * one Adam `step`, ort and tfjs engines). The SAM 2.1 fixture's decoder has the published sizes, so its
 * numbers are those of tiny..large. Median of N runs after one warm-up.
 * Writes bench/results/sam2-decoder.{json,md}. Usage: pnpm bench:sam2-decoder [--runs 5]
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  initBackend,
  inferSam2Config,
  readSafetensors,
  readTorchCheckpoint,
  Sam2Model,
  sam2PredictorWeights,
  SamModel,
  shapesOf,
  writeSam2Safetensors,
  type FloatTensor,
  type ImageEmbedding,
} from '@samtune/sam-model';
import { createTrainEngine, TrainState } from '@samtune/trainer';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineInfo, median, writeResult } from './machine.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Math.max(3, Number(values.runs));
const shared = resolve(import.meta.dirname, '../../shared/fixtures');
const BOX: [number, number, number, number] = [160, 133.5, 560, 480.6];
const SIZE: [number, number] = [534, 800];
const ms = (t0: number): number => performance.now() - t0;

async function timed(f: () => Promise<unknown> | unknown): Promise<number> {
  await f(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    times.push(ms(t0));
  }
  return median(times);
}

const machine = machineInfo(); // load average at the start
const backend = await initBackend();
const t = (file: string, key: string): FloatTensor =>
  readSafetensors(resolve(shared, file)).tensors.get(key) as FloatTensor;
const sam1Emb: ImageEmbedding = {
  embedding: t('sam-reference/tinyvit_outputs.safetensors', 'dog.image_embeddings'),
  originalSize: SIZE,
  inputSize: [683, 1024],
};
const sam2Emb: ImageEmbedding = {
  embedding: t('sam2-reference/hiera_mini_outputs.safetensors', 'dog.image_embeddings'),
  highResFeats: [
    t('sam2-reference/hiera_mini_outputs.safetensors', 'dog.high_res_feats.0'),
    t('sam2-reference/hiera_mini_outputs.safetensors', 'dog.high_res_feats.1'),
  ],
  originalSize: SIZE,
  inputSize: [1024, 1024],
};
const sam2Official = readTorchCheckpoint(resolve(shared, 'sam2-reference/sam2.1_hiera_mini_seeded.pt'));
const sam2Config = inferSam2Config(shapesOf(sam2Official), {
  numHeads: 1,
  globalAttBlocks: [3],
  windowSpec: [8, 4, 14, 7],
  qPool: 3,
});
const tmp = mkdtempSync(join(tmpdir(), 'samtune-bench-sam2-'));
const sam2Path = join(tmp, 'hiera_mini.safetensors');
writeSam2Safetensors(sam2Path, sam2Official, sam2Config);

const predictRows: { model: string; engine: string; msPerBox: number }[] = [];
for (const engine of ['ort', 'tfjs'] as const) {
  const m = await SamModel.load(resolve(shared, 'sam-reference/tinyvit.pth'), { engine });
  const msPerBox = await timed(() => m.predict(sam1Emb, { box: BOX }, { multimask: 'auto' }));
  predictRows.push({ model: 'SAM 1 tiny_vit', engine, msPerBox });
  await m.release();
}
{
  const m = await Sam2Model.load(sam2Path);
  const msPerBox = await timed(() => m.predict(sam2Emb, { box: BOX }, { multimask: 'auto' }));
  predictRows.push({ model: 'SAM 2.1 (published decoder sizes)', engine: 'tfjs', msPerBox });
  await m.release();
}

const sam1 = await SamModel.load(resolve(shared, 'sam-reference/tinyvit.pth'));
const boxes = Float32Array.from({ length: 16 }, (_, i) => [200, 170, 700, 615][i % 4] as number);
const targets = new Float32Array(4 * 65536).map((_, i) => ((i % 65536) % 256 > 80 ? 1 : 0));
const trainRows: { model: string; engine: string; msPerPrompt: number }[] = [];
for (const engine of ['ort', 'tfjs']) {
  for (const [model, config, weights, emb] of [
    ['SAM 1 tiny_vit', sam1.config, sam1.weights, sam1Emb],
    ['SAM 2.1 (published decoder sizes)', sam2Config, sam2PredictorWeights(sam2Official), sam2Emb],
  ] as const) {
    const e = createTrainEngine(engine, { config, weights, adam: { lr: 1e-5 } });
    e.load(TrainState.fromCheckpoint(weights));
    const step = await timed(() => {
      e.accumulate(emb.embedding, { size: 4, numPoints: 0, boxes }, targets, 1, undefined, emb.highResFeats);
      e.step(1e-5);
    });
    e.dispose();
    trainRows.push({ model, engine, msPerPrompt: step / 4 });
    console.log(`train ${model} ${engine}: ${(step / 4).toFixed(1)} ms/prompt`);
  }
}
await sam1.release();
rmSync(tmp, { recursive: true, force: true });
writeResult(
  resolve(import.meta.dirname, 'results/sam2-decoder.json'),
  JSON.stringify(
    {
      benchmark: 'SAM 2.1 vs SAM 1 TinyViT decoder side',
      machine,
      backend: backend.name,
      runs,
      predictRows,
      trainRows,
    },
    null,
    2,
  ),
);
const p0 = predictRows[0]!.msPerBox;
const md = [
  '# SAM 2.1 vs SAM 1 TinyViT: one box -> mask, and the training step (CPU)',
  '',
  `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, tfjs backend ${backend.name}, load average ${machine.loadAverage1m} at start, ${machine.date}.`,
  `Median of ${runs} runs after one warm-up, all in one run; compare the ratio columns on a shared machine.`,
  '',
  '| one box -> mask (original size) | engine | ms | × SAM 1 ort |',
  '| --- | --- | ---: | ---: |',
  ...predictRows.map(
    (r) => `| ${r.model} | ${r.engine} | ${r.msPerBox.toFixed(1)} | ${(r.msPerBox / p0).toFixed(2)} |`,
  ),
  '',
  '| training step (4 boxes + Adam) | engine | ms / prompt | × SAM 1 same engine |',
  '| --- | --- | ---: | ---: |',
  ...trainRows.map((r) => {
    const base = trainRows.find((x) => x.engine === r.engine)!.msPerPrompt;
    return `| ${r.model} | ${r.engine} | ${r.msPerPrompt.toFixed(1)} | ${(r.msPerPrompt / base).toFixed(2)} |`;
  }),
  '',
  'Reproduce: `pnpm bench:sam2-decoder` (writes bench/results/sam2-decoder.json and this file).',
];
writeResult(resolve(import.meta.dirname, 'results/sam2-decoder.md'), md.join('\n'));
