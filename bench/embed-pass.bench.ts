/**
 * `pnpm bench:embed-pass`: the first embedding pass over plant-seg-coco photos (2048x1536 JPEG), stage
 * by stage — file hash (SHA-256), decode + EXIF (sharp), PIL-exact resize, normalise + pad, the
 * TinyViT encoder on onnxruntime-node, the cache write — and the whole `EmbeddingCache.fill` on an
 * empty cache against the encoder time alone on the same images, in the same run (goal: fill <= 1.2x
 * the encoder alone). Writes bench/results/embed-pass.{json,md}.
 * Usage: pnpm bench:embed-pass [--images 8]
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EmbeddingCache, imageEncoderKey } from '@samtune/evaluation';
import { SamModel, sha256File } from '@samtune/sam-model';
import { writeSafetensors } from '@samtune/tensor-files';
import { normalizeAndPad, readImage, resizeLongestSide } from '@samtune/transforms';
import { machineInfo, writeResult } from './machine.js';

const { values } = parseArgs({ options: { images: { type: 'string', default: '8' } } });
const count = Math.max(2, Number(values.images));
const root = resolve(import.meta.dirname, '../..');
const photos = resolve(root, 'shared/datasets/plant-seg-coco/train');
const files = readdirSync(photos)
  .filter((f) => f.endsWith('.jpg'))
  .sort()
  .slice(0, count)
  .map((f) => join(photos, f));

const model = await SamModel.load(resolve(root, 'shared/fixtures/sam-reference/tinyvit.pth'));
const encoder = await model.encoder();
const ms = (t0: number) => performance.now() - t0;
const stages = { hash: 0, decode: 0, resize: 0, normalizePad: 0, encoder: 0, write: 0 };
const scratch = mkdtempSync(join(tmpdir(), 'samtune-embed-pass-'));

// warm-up: one image through the encoder
{
  const img = await readImage(files[0] as string);
  await encoder.embed(normalizeAndPad(resizeLongestSide(img, 1024), model.config.pixelMean, model.config.pixelStd));
}

// 1. stage by stage
const tensors = [];
for (const [i, f] of files.entries()) {
  let t0 = performance.now();
  await sha256File(f);
  stages.hash += ms(t0);
  t0 = performance.now();
  const img = await readImage(f);
  stages.decode += ms(t0);
  t0 = performance.now();
  const resized = resizeLongestSide(img, 1024);
  stages.resize += ms(t0);
  t0 = performance.now();
  const tensor = normalizeAndPad(resized, model.config.pixelMean, model.config.pixelStd);
  stages.normalizePad += ms(t0);
  tensors.push(tensor);
  t0 = performance.now();
  const emb = await encoder.embed(tensor);
  stages.encoder += ms(t0);
  t0 = performance.now();
  writeSafetensors(join(scratch, `${i}.safetensors`), new Map([['image_embeddings', emb]]), {});
  stages.write += ms(t0);
}

// 2. the encoder alone on the already pre-processed tensors
let t0 = performance.now();
for (const t of tensors) await encoder.embed(t);
const encoderAloneMs = ms(t0);

// 3. the whole first pass: EmbeddingCache.fill on an empty cache
const cacheDir = join(scratch, 'cache');
const cache = new EmbeddingCache({
  dir: cacheDir,
  encoderKey: imageEncoderKey(model.config, model.weights),
  embedder: encoder,
});
t0 = performance.now();
await cache.fill(files);
const fillMs = ms(t0);
rmSync(scratch, { recursive: true, force: true });
await model.release();

const per = (x: number) => +(x / files.length).toFixed(1);
const stageTotal = Object.values(stages).reduce((a, b) => a + b, 0);
const result = {
  machine: machineInfo(),
  images: files.length,
  imageSize: '2048x1536 JPEG (plant-seg-coco train)',
  msPerImage: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, per(v)])),
  stageSumMsPerImage: per(stageTotal),
  encoderAloneMsPerImage: per(encoderAloneMs),
  fillMsPerImage: per(fillMs),
  fillOverEncoder: +(fillMs / encoderAloneMs).toFixed(3),
};
const rows = Object.entries(result.msPerImage)
  .map(([k, v]) => `| ${k} | ${v} | ${((v / result.stageSumMsPerImage) * 100).toFixed(0)} % |`)
  .join('\n');
const md = `# First embedding pass (bench:embed-pass)

${result.machine.cpu}, ${result.machine.cores} cores, node ${result.machine.node}, 1-min load ${result.machine.loadAverage1m} at the start
(shared machine: compare the ratio, not the absolute times). ${result.machine.date}

${files.length} photos of plant-seg-coco/train, 2048x1536 JPEG, TinyViT (tinyvit.pth fixture) on onnxruntime-node.

| stage | ms / image | share |
| --- | --- | --- |
${rows}

| | ms / image |
| --- | --- |
| encoder alone (same images, pre-processed) | ${result.encoderAloneMsPerImage} |
| \`EmbeddingCache.fill\` on an empty cache (everything above) | ${result.fillMsPerImage} |
| **ratio fill / encoder alone** | **${result.fillOverEncoder}x** (goal <= 1.2x) |

Regenerate: \`pnpm bench:embed-pass\`.
`;
writeResult(resolve(import.meta.dirname, 'results/embed-pass.json'), JSON.stringify(result, null, 2));
writeResult(resolve(import.meta.dirname, 'results/embed-pass.md'), md);
console.log(md);
