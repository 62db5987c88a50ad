/**
 * Decoding every mask of plant-seg-coco `train` (59 images 2048x1536, 479 polygon instances) through
 * the lazy `instance.mask()` of @samtune/datasets: total time, masks/s, per-mask latency, and peak
 * memory (RSS, V8 heap, ArrayBuffers) while decoding one mask at a time and dropping it.
 * Also compares the pycocotools rasterisation rule with exact pixel-centre sampling and the
 * polygons' shoelace area on the same polygons.
 *
 * Run from the repo root: pnpm bench:datasets [--passes 3]
 * Writes bench/results/datasets-masks.{json,md}.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadDataset, rasterizePolygon, rasterizePolygonCenters, type DatasetInstance } from '@samtune/datasets';
import { machineInfo, median, writeResult } from './machine.js';

const { values } = parseArgs({ options: { passes: { type: 'string', default: '3' } } });
const passes = Math.max(1, Number(values.passes));
const root = resolve(import.meta.dirname, '../../shared/datasets/plant-seg-coco');
const out = resolve(import.meta.dirname, 'results');
const MiB = 2 ** 20;
const r = (x: number, d = 2): number => Number(x.toFixed(d));

const machine = machineInfo();
const mem0 = process.memoryUsage();
let t = performance.now();
const ds = await loadDataset(root);
const loadSeconds = (performance.now() - t) / 1000;
const items = ds.subsets.train ?? [];
const instances: { inst: DatasetInstance }[] = items.flatMap((it) => it.instances.map((inst) => ({ inst })));
if (items.length !== 59 || instances.length !== 479)
  throw new Error(`bench: expected train 59 images / 479 instances, got ${items.length} / ${instances.length}`);

const peak = { rss: 0, heapUsed: 0, arrayBuffers: 0 };
const sample = (): void => {
  const m = process.memoryUsage();
  peak.rss = Math.max(peak.rss, m.rss);
  peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
  peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
};

const passSeconds: number[] = [];
const perMaskMs: number[] = [];
let pixels = 0;
for (let p = 0; p < passes; p++) {
  pixels = 0;
  const t0 = performance.now();
  for (const { inst } of instances) {
    t = performance.now();
    const m = await inst.mask();
    let n = 0;
    for (let i = 0; i < m.data.length; i++) n += m.data[i] as number;
    pixels += n;
    if (p === passes - 1) perMaskMs.push(performance.now() - t);
    sample();
  }
  passSeconds.push((performance.now() - t0) / 1000);
}
const total = median(passSeconds);
const sorted = [...perMaskMs].sort((a, b) => a - b);

// Rasterisation rules on the same polygons (train + valid, read from the annotation files):
// pixel counts and XOR differences.
let cocoPx = 0;
let centerPx = 0;
let xorPx = 0;
let shoelace = 0;
let polygons = 0;
let worstRel = 0;
for (const subset of ['train', 'valid']) {
  const doc = JSON.parse(readFileSync(resolve(root, subset, '_annotations.coco.json'), 'utf8')) as {
    images: { id: number; width: number; height: number }[];
    annotations: { image_id: number; segmentation: (number | string)[][] }[];
  };
  const sizes = new Map(doc.images.map((im) => [im.id, im]));
  for (const a of doc.annotations) {
    const im = sizes.get(a.image_id);
    if (!im) continue;
    for (const poly of a.segmentation) {
      const xy = poly.map(Number);
      const pa = rasterizePolygon(xy, im.height, im.width);
      const pb = rasterizePolygonCenters(xy, im.height, im.width);
      let ca = 0;
      let cb = 0;
      let x = 0;
      for (let i = 0; i < pa.length; i++) {
        ca += pa[i] as number;
        cb += pb[i] as number;
        x += pa[i] !== pb[i] ? 1 : 0;
      }
      let s2 = 0;
      const n = xy.length / 2;
      for (let i = 0; i < n; i++) {
        const j = (i + 1) % n;
        s2 += (xy[2 * i] as number) * (xy[2 * j + 1] as number) - (xy[2 * j] as number) * (xy[2 * i + 1] as number);
      }
      cocoPx += ca;
      centerPx += cb;
      xorPx += x;
      shoelace += Math.abs(s2) / 2;
      polygons++;
      worstRel = Math.max(worstRel, x / Math.max(1, ca));
    }
  }
}

const result = {
  machine,
  dataset: 'plant-seg-coco',
  subset: 'train',
  images: items.length,
  masks: instances.length,
  imageSize: '2048x1536',
  passes,
  loadSeconds: r(loadSeconds, 3),
  totalSecondsMedian: r(total, 3),
  passSeconds: passSeconds.map((s) => r(s, 3)),
  masksPerSecond: r(instances.length / total, 1),
  msPerMask: {
    median: r(median(perMaskMs)),
    p95: r(sorted[Math.floor(sorted.length * 0.95)] ?? 0),
    max: r(sorted[sorted.length - 1] ?? 0),
  },
  foregroundPixels: pixels,
  memoryMiB: {
    rssBefore: r(mem0.rss / MiB, 1),
    rssPeak: r(peak.rss / MiB, 1),
    heapUsedBefore: r(mem0.heapUsed / MiB, 1),
    heapUsedPeak: r(peak.heapUsed / MiB, 1),
    arrayBuffersPeak: r(peak.arrayBuffers / MiB, 1),
    oneMask: r((2048 * 1536) / MiB, 1),
  },
  rasterisationRules: {
    polygons,
    pycocotoolsRulePixels: cocoPx,
    exactCentrePixels: centerPx,
    differingPixels: xorPx,
    differingShareOfPixels: r(xorPx / cocoPx, 5),
    worstPolygonDifferingShare: r(worstRel, 4),
    shoelaceArea: r(shoelace, 1),
  },
};

writeResult(resolve(out, 'datasets-masks.json'), JSON.stringify(result, null, 2));
const m = result.memoryMiB;
const q = result.rasterisationRules;
writeResult(
  resolve(out, 'datasets-masks.md'),
  [
    '# Decoding every mask of plant-seg-coco train (@samtune/datasets, lazy masks)',
    '',
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, load average ${machine.loadAverage1m} at start, ${machine.date}.`,
    `${result.images} images (2048x1536), ${result.masks} polygon instances; each \`instance.mask()\` rasterises a full-size (H,W) mask (${m.oneMask} MiB), the bench counts its pixels and drops it. Median of ${passes} passes.`,
    '',
    '| load (annotations + image headers) s | decode all masks s | masks / s | ms / mask median | p95 | max |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${result.loadSeconds} | ${result.totalSecondsMedian} | ${result.masksPerSecond} | ${result.msPerMask.median} | ${result.msPerMask.p95} | ${result.msPerMask.max} |`,
    '',
    '| memory (MiB) | before | peak while decoding |',
    '| --- | ---: | ---: |',
    `| RSS | ${m.rssBefore} | ${m.rssPeak} |`,
    `| V8 heap used | ${m.heapUsedBefore} | ${m.heapUsedPeak} |`,
    `| ArrayBuffers (mask buffers) | – | ${m.arrayBuffersPeak} |`,
    '',
    `Rasterisation rule on all ${q.polygons} polygons (train + valid): pycocotools rule ${q.pycocotoolsRulePixels} px, exact pixel-centre sampling ${q.exactCentrePixels} px, shoelace area ${q.shoelaceArea}; ${q.differingPixels} pixels differ between the two rules (${(q.differingShareOfPixels * 100).toFixed(3)}% of all, worst polygon ${(q.worstPolygonDifferingShare * 100).toFixed(2)}%).`,
    '',
    'Reproduce: `pnpm bench:datasets` (writes bench/results/datasets-masks.json and this file).',
  ].join('\n'),
);
console.log(JSON.stringify(result, null, 2));
