/**
 * `pnpm bench:embed`: seconds per image of the image encoder on onnxruntime-node (median of N runs
 * after one warm-up), for the two fixture checkpoints and a seeded ViT-B-size model built from the
 * `vit_b` preset. Also the one-off costs: checkpoint load, ONNX graph build + session creation, and
 * the pre-processing (PIL-exact resize, normalise, pad) of the photo.
 * Writes bench/results/embed.{json,md}. Usage: pnpm bench:embed [--runs 5]
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SamModel } from '@samtune/sam-model';
import { preprocessImage, readImage } from '@samtune/transforms';
import { machineInfo, median, writeResult } from './machine.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Math.max(5, Number(values.runs));
const ref = resolve(import.meta.dirname, '../../shared/fixtures/sam-reference');

interface Row {
  model: string;
  source: string;
  params: number;
  loadSeconds: number;
  buildSessionSeconds: number;
  preprocessSeconds: number;
  secondsPerImage: number;
  runs: number[];
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;

async function bench(label: string, load: () => Promise<SamModel>): Promise<Row> {
  let t0 = performance.now();
  const model = await load();
  const loadSeconds = seconds(t0);
  t0 = performance.now();
  const encoder = await model.encoder();
  const buildSessionSeconds = seconds(t0);
  const img = await readImage(resolve(ref, 'dog.jpg'));
  t0 = performance.now();
  const pre = preprocessImage(img, model.config.pixelMean, model.config.pixelStd);
  const preprocessSeconds = seconds(t0);
  await encoder.embed(pre.tensor); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    t0 = performance.now();
    await encoder.embed(pre.tensor);
    times.push(seconds(t0));
  }
  let params = 0;
  for (const [k, t] of model.weights) if (k.startsWith('image_encoder.')) params += t.data.length;
  await model.release();
  const row = {
    model: label,
    source: model.source.path,
    params,
    loadSeconds,
    buildSessionSeconds,
    preprocessSeconds,
    secondsPerImage: median(times),
    runs: times,
  };
  console.log(
    `${label}: ${row.secondsPerImage.toFixed(3)} s/image (median of ${runs}), session build ${buildSessionSeconds.toFixed(2)} s`,
  );
  return row;
}

const machine = machineInfo();
const rows = [
  await bench('tiny_vit (MobileSAM, tinyvit.pth fixture)', () => SamModel.load(resolve(ref, 'tinyvit.pth'))),
  await bench('vit_mini (fixture: embed 192, depth 4)', () => SamModel.load(resolve(ref, 'vit_mini.pth'))),
  await bench('vit_b (seeded, preset size)', async () => SamModel.seeded('vit_b', 0)),
];
const result = {
  benchmark: 'image encoder, onnxruntime-node CPU, 1024x1024 input (dog.jpg)',
  machine,
  runsPerModel: runs,
  results: rows,
};
writeResult(resolve(import.meta.dirname, 'results/embed.json'), JSON.stringify(result, null, 2));
const md = [
  '# Image encoder: seconds per image (onnxruntime-node, CPU)',
  '',
  `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, load average ${machine.loadAverage1m} at start, ${machine.date}.`,
  `Median of ${runs} runs after one warm-up; pre-processing (PIL-exact resize + normalise + pad of dog.jpg 800x534) timed separately.`,
  '',
  '| model | encoder params | s / image (median) | session build s | checkpoint load s | pre-processing s |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.model} | ${(r.params / 1e6).toFixed(1)} M | ${r.secondsPerImage.toFixed(3)} | ${r.buildSessionSeconds.toFixed(2)} | ${r.loadSeconds.toFixed(2)} | ${r.preprocessSeconds.toFixed(3)} |`,
  ),
  '',
  'Reproduce: `pnpm bench:embed` (writes bench/results/embed.json and this file).',
];
writeResult(resolve(import.meta.dirname, 'results/embed.md'), md.join('\n'));
