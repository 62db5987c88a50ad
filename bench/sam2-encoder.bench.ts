/**
 * `pnpm bench:sam2-encoder`: seconds per image of the SAM 2.1 image encoder (Hiera + FPN neck +
 * conv_s0/s1 + no_mem_embed) on onnxruntime-node, against SAM 1 TinyViT in the same run: the
 * official-size Hiera-T and Hiera-S (seeded weights of the published shapes, `sam2Preset`), the
 * reduced fixture, and MobileSAM TinyViT (fixture). Median of N runs after one warm-up; the
 * pre-processing of dog.jpg (SAM 2.1: stretch + antialiased float resize) is timed separately.
 * Writes bench/results/sam2-encoder.{json,md}. Usage: pnpm bench:sam2-encoder [--runs 5]
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  SamModel,
  Sam2EncoderSession,
  expectedSam2EncoderShapes,
  initWeightsFromShapes,
  loadSam2Checkpoint,
  sam2Preset,
  type HieraConfig,
  type WeightMap,
} from '@samtune/sam-model';
import { preprocessImage, preprocessImageSam2, readImage } from '@samtune/transforms';
import { machineInfo, median, writeResult } from './machine.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Math.max(3, Number(values.runs));
const shared = resolve(import.meta.dirname, '../../shared/fixtures');
const seconds = (t0: number): number => (performance.now() - t0) / 1000;

interface Row {
  model: string;
  params: number;
  buildSessionSeconds: number;
  preprocessSeconds: number;
  secondsPerImage: number;
  runs: number[];
}

async function timeEmbed(embed: () => Promise<unknown>): Promise<number[]> {
  await embed(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await embed();
    times.push(seconds(t0));
  }
  return times;
}

const img = await readImage(resolve(shared, 'sam-reference/dog.jpg'));

async function sam2Row(label: string, config: HieraConfig, weights: WeightMap): Promise<Row> {
  let t0 = performance.now();
  const session = await Sam2EncoderSession.create(config, weights);
  const buildSessionSeconds = seconds(t0);
  t0 = performance.now();
  const pre = preprocessImageSam2(img);
  const preprocessSeconds = seconds(t0);
  const times = await timeEmbed(() => session.embed(pre.tensor));
  await session.release();
  let params = 0;
  for (const [k, t] of weights) if (k.startsWith('image_encoder.')) params += t.data.length;
  return { model: label, params, buildSessionSeconds, preprocessSeconds, secondsPerImage: median(times), runs: times };
}

async function tinyVitRow(): Promise<Row> {
  const model = await SamModel.load(resolve(shared, 'sam-reference/tinyvit.pth'));
  let t0 = performance.now();
  const encoder = await model.encoder();
  const buildSessionSeconds = seconds(t0);
  t0 = performance.now();
  const pre = preprocessImage(img, model.config.pixelMean, model.config.pixelStd);
  const preprocessSeconds = seconds(t0);
  const times = await timeEmbed(() => encoder.embed(pre.tensor));
  let params = 0;
  for (const [k, t] of model.weights) if (k.startsWith('image_encoder.')) params += t.data.length;
  await model.release();
  return {
    model: 'SAM 1 tiny_vit (MobileSAM, tinyvit.pth fixture)',
    params,
    buildSessionSeconds,
    preprocessSeconds,
    secondsPerImage: median(times),
    runs: times,
  };
}

const seeded = (name: 'sam2.1_hiera_tiny' | 'sam2.1_hiera_small') => {
  const config = sam2Preset(name);
  return [config.imageEncoder, initWeightsFromShapes(expectedSam2EncoderShapes(config), 0)] as const;
};

const machine = machineInfo();
const rows: Row[] = [];
for (const make of [
  async () => tinyVitRow(),
  async () => sam2Row('SAM 2.1 hiera_tiny (seeded, published shapes)', ...seeded('sam2.1_hiera_tiny')),
  async () => sam2Row('SAM 2.1 hiera_small (seeded, published shapes)', ...seeded('sam2.1_hiera_small')),
  async () => {
    const ck = await loadSam2Checkpoint(resolve(shared, 'sam2-reference/sam2.1_hiera_mini_seeded.pt'), {
      facts: { numHeads: 1, globalAttBlocks: [3], windowSpec: [8, 4, 14, 7], qPool: 3 },
    });
    return sam2Row('SAM 2.1 hiera_mini (fixture: embed 32, stages 1,1,2,1)', ck.config.imageEncoder, ck.weights);
  },
]) {
  const row = await make();
  rows.push(row);
  console.log(`${row.model}: ${row.secondsPerImage.toFixed(3)} s/image (median of ${runs})`);
}
const base = rows[0]!.secondsPerImage;
writeResult(
  resolve(import.meta.dirname, 'results/sam2-encoder.json'),
  JSON.stringify(
    {
      benchmark: 'SAM 2.1 vs SAM 1 TinyViT image encoder, onnxruntime-node CPU',
      machine,
      runsPerModel: runs,
      results: rows,
    },
    null,
    2,
  ),
);
const md = [
  '# SAM 2.1 image encoder vs SAM 1 TinyViT: seconds per image (onnxruntime-node, CPU)',
  '',
  `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, load average ${machine.loadAverage1m} at start, ${machine.date}.`,
  `Median of ${runs} runs after one warm-up, all models in one run; the ratio column is what to compare on a shared machine.`,
  '',
  '| model | encoder params | s / image (median) | × TinyViT | session build s | pre-processing s |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.model} | ${(r.params / 1e6).toFixed(1)} M | ${r.secondsPerImage.toFixed(3)} | ${(r.secondsPerImage / base).toFixed(2)} | ${r.buildSessionSeconds.toFixed(2)} | ${r.preprocessSeconds.toFixed(3)} |`,
  ),
  '',
  'Reproduce: `pnpm bench:sam2-encoder` (writes bench/results/sam2-encoder.json and this file).',
];
writeResult(resolve(import.meta.dirname, 'results/sam2-encoder.md'), md.join('\n'));
