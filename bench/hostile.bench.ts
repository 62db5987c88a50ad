/**
 * `pnpm bench:hostile`: small inputs that used to take huge memory (issue 22), each loaded in a fresh
 * child process (`bench/hostile-child.ts`) whose peak RSS is measured (`process.resourceUsage`). Every
 * bomb is built here from code (nothing binary is committed) and must be refused with its named error
 * (polygons: clipped and rasterised) at <= 600 MiB peak RSS. The `none` row is the baseline: the same
 * child importing samtune and loading nothing.
 * Writes bench/results/hostile.{json,md}.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pngWithIdat, rgbImagePng } from '../packages/datasets/src/test-utils/png-writer.js';
import {
  deflatedZeros,
  manyViewsPth,
  overlappingSafetensors,
  safetensorsWith,
  strideZeroPth,
  viewPth,
} from '../packages/tensor-files/src/test-utils/bombs.js';
import { machineInfo, writeResult } from './machine.js';

const LIMIT_MIB = 600;
const dir = mkdtempSync(join(tmpdir(), 'samtune-hostile-'));
const child = resolve(import.meta.dirname, 'hostile-child.ts');

/** Writes `files` (relative path -> bytes) under a fresh folder of `dir`; returns it. */
function folder(name: string, files: Record<string, Uint8Array | string>): string {
  const root = join(dir, name);
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), data);
  }
  return root;
}

function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Bytes on disk of a file or of every file in a folder (one level of subfolders is enough here). */
function sizeOf(path: string, files: Record<string, Uint8Array | string> = {}): number {
  return statSync(path).isFile()
    ? statSync(path).size
    : Object.values(files).reduce((n, d) => n + (typeof d === 'string' ? Buffer.byteLength(d) : d.length), 0);
}

interface Bomb {
  readonly name: string;
  readonly kind: 'none' | 'pth' | 'safetensors' | 'dataset';
  readonly path: string;
  readonly bytes: number;
  /** What it would have taken before (issue 22's measurements) or what it asks for. */
  readonly asks: string;
  /** The named error expected, or `ok` for inputs that are made safe and loaded (polygons). */
  readonly expect: string;
}

const IMG = rgbImagePng(4, 3);
const cocoPolygon = (big: number): Record<string, Uint8Array | string> => ({
  'annotations/instances_train.json': JSON.stringify({
    images: [{ id: 1, file_name: 'a.png', width: 4, height: 3 }],
    categories: [{ id: 1, name: 'thing' }],
    annotations: [
      { id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 4, 3], segmentation: [[-big, -big, big, -big, 0, big]] },
    ],
  }),
  'images/train/a.png': IMG,
});
const cssMask = (mask: Uint8Array): Record<string, Uint8Array | string> => ({
  'dataset_meta.json': JSON.stringify({ label_map: { '0': 'background', '1': 'cell' } }),
  'images/a.png': IMG,
  'masks/a.png': mask,
});
const vocMask = (mask: Uint8Array): Record<string, Uint8Array | string> => ({
  'ImageSets/Segmentation/train.txt': 'a\n',
  'JPEGImages/a.png': IMG,
  'SegmentationClass/a.png': mask,
});

const bombs: Bomb[] = [];
const add = (b: Omit<Bomb, 'bytes'>, files?: Record<string, Uint8Array | string>): void => {
  bombs.push({ ...b, bytes: sizeOf(b.path, files) });
};
add({ name: 'baseline (imports only)', kind: 'none', path: dir, asks: '-', expect: 'ok' }, {});
add({
  name: '.pth stride-0 view, 20000x20000 of a 1-element storage',
  kind: 'pth',
  path: file('stride0.pth', strideZeroPth()),
  asks: '1.6 GB (400M floats)',
  expect: 'TorchCheckpointError',
});
add({
  name: '.pth negative stride',
  kind: 'pth',
  path: file('negative.pth', viewPth(4, [1 << 28], [-1], 3)),
  asks: '1 GiB (268M floats)',
  expect: 'TorchCheckpointError',
});
add({
  name: '.pth 400 views of one 4 MiB storage',
  kind: 'pth',
  path: file('views.pth', manyViewsPth(400, 1 << 20)),
  asks: '1.6 GB (400 copies)',
  expect: 'TorchCheckpointError',
});
add({
  name: 'safetensors, 350 tensors on the same 4 MiB (overlapping data_offsets)',
  kind: 'safetensors',
  path: file('overlap.safetensors', overlappingSafetensors(350, 4 << 20)),
  asks: '1.4 GB',
  expect: 'SafetensorsError',
});
add({
  name: 'safetensors, fractional data_offsets',
  kind: 'safetensors',
  path: file('fraction.safetensors', safetensorsWith({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4.5] } }, 8)),
  asks: '-',
  expect: 'SafetensorsError',
});
for (const big of [2e7, 4.3e8]) {
  const files = cocoPolygon(big);
  add(
    {
      name: `COCO polygon with coordinates +-${big.toExponential(1)} (4x3 image)`,
      kind: 'dataset',
      path: folder(`poly-${big}`, files),
      asks: big === 2e7 ? '3.8 GB walk' : 'RangeError (2e9-step walk)',
      expect: 'ok',
    },
    files,
  );
}
const hugeHeader = pngWithIdat(20_000, 15_000, await deflatedZeros(15_000 * 20_001, 'zlib')); // inflates to 300 MB
const overlong = pngWithIdat(4, 3, await deflatedZeros(1 << 30, 'zlib')); // a 4x3 header over 1 GiB of zeros
for (const [fmt, build] of [
  ['CSS', cssMask],
  ['VOC', vocMask],
] as const) {
  const a = build(hugeHeader);
  add(
    {
      name: `${fmt} mask PNG with a 20000x15000 header (image 4x3)`,
      kind: 'dataset',
      path: folder(`${fmt}-header`, a),
      asks: '300 MB inflated + 300 MB samples',
      expect: 'MaskSizeMismatchError',
    },
    a,
  );
  const b = build(overlong);
  add(
    {
      name: `${fmt} mask PNG, 4x3 header, data inflating to 1 GiB`,
      kind: 'dataset',
      path: folder(`${fmt}-overlong`, b),
      asks: '1 GiB inflated',
      expect: 'UnreadableMaskError',
    },
    b,
  );
}

const machine = machineInfo();
const rows = bombs.map((b) => {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--conditions=@samtune/source', child, b.kind, b.path],
    {
      encoding: 'utf8',
      timeout: 300_000,
    },
  );
  const r = JSON.parse(out.trim().split('\n').pop() as string) as {
    ok: boolean;
    error?: string;
    message?: string;
    detail?: string;
    maxRssMiB: number;
  };
  const outcome = r.ok ? 'ok' : (r.error ?? '?');
  const pass = outcome === b.expect && r.maxRssMiB <= LIMIT_MIB;
  console.log(`${pass ? 'PASS' : 'FAIL'} ${b.name}: ${outcome}, ${r.maxRssMiB} MiB`);
  return { ...b, path: undefined, outcome, message: r.message ?? r.detail, peakRssMiB: r.maxRssMiB, pass };
});
rmSync(dir, { recursive: true, force: true });

const kib = (n: number): string => (n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 2 ** 20).toFixed(1)} MiB`);
const md = `# Hostile small inputs: peak RSS of a process that loads each (bench:hostile)

${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}, 1-min load ${machine.loadAverage1m} at the start. ${machine.date}

Each input is built by the bench (nothing binary is committed) and loaded in a fresh child process
(\`bench/hostile-child.ts\`: \`readTorchCheckpoint\`, \`readSafetensors\`, or \`loadDataset\` and every
instance's mask); peak RSS is the child's \`maxRSS\`. Goal: refused with the named error (polygons:
clipped to the image and rasterised), peak RSS <= ${LIMIT_MIB} MiB. "Asked for" is what the input
makes a reader allocate without the checks (issue 22's measurements, or the declared sizes).

| input | size | asked for | outcome | peak RSS | pass |
| --- | ---: | --- | --- | ---: | --- |
${rows.map((r) => `| ${r.name} | ${r.kind === 'none' ? '-' : kib(r.bytes)} | ${r.asks} | \`${r.outcome}\` | ${r.peakRssMiB} MiB | ${r.pass ? 'yes' : '**no**'} |`).join('\n')}

Messages:

${rows
  .filter((r) => r.kind !== 'none')
  .map((r) => `- ${r.name}: ${(r.message ?? '').replace(/\/tmp\/samtune-hostile-[^/]+\//g, '…/')}`)
  .join('\n')}

Regenerate: \`pnpm bench:hostile\`.
`;
const result = { machine, limitMiB: LIMIT_MIB, rows };
writeResult(resolve(import.meta.dirname, 'results/hostile.json'), JSON.stringify(result, null, 2));
writeResult(resolve(import.meta.dirname, 'results/hostile.md'), md);
console.log(md);
if (rows.some((r) => !r.pass)) process.exitCode = 1;
