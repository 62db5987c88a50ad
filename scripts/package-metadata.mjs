#!/usr/bin/env node
/**
 * Publishing metadata of every public workspace package, in one place: `repository` (with
 * `directory`), `engines`, `publishConfig.access`, `sideEffects`, `keywords` and `files` (dist, the
 * sources without tests, README, CHANGELOG, LICENSE). It only touches those fields (and LICENSE
 * copies); everything else in a package.json (dependencies, scripts, exports) is left as it is.
 *
 *   node scripts/package-metadata.mjs          # write the fields and copy LICENSE into each package
 *   node scripts/package-metadata.mjs --check  # exit 1 and list what differs (CI)
 *
 * Decision on the `@samtune/source` export condition and the source maps: the packages SHIP `src/`
 * (without tests and test-utils), so the condition resolves in an installed package and the
 * `.js.map` / `.d.ts.map` files point at files that exist.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

export const REPOSITORY_URL = 'git+https://github.com/samtune/samtune.git';
const COMMON_KEYWORDS = ['samtune', 'segment-anything', 'sam', 'mobilesam', 'segmentation'];

/** Per package: extra keywords and the files with side effects (bundlers may drop any other module). */
const PACKAGES = {
  errors: { keywords: ['errors'], sideEffects: false },
  tensor: { keywords: ['tensor', 'ops'], sideEffects: false },
  onnx: { keywords: ['onnx', 'onnxruntime', 'protobuf'], sideEffects: false },
  'worker-thread': { keywords: ['worker-threads'], sideEffects: false },
  'tensor-files': { keywords: ['safetensors', 'pytorch-checkpoint', 'npy', 'pickle'], sideEffects: false },
  transforms: { keywords: ['image', 'preprocessing', 'resize', 'sharp'], sideEffects: false },
  datasets: { keywords: ['coco', 'pascal-voc', 'datumaro', 'dataset'], sideEffects: false },
  'training-data': { keywords: ['training-data', 'prompts'], sideEffects: false },
  'sam-model': { keywords: ['tensorflow', 'tfjs', 'onnxruntime', 'pytorch-checkpoint'], sideEffects: false },
  losses: { keywords: ['loss', 'focal-loss', 'dice-loss', 'tfjs'], sideEffects: false },
  evaluation: { keywords: ['metrics', 'evaluation', 'iou', 'f1'], sideEffects: false },
  trainer: { keywords: ['fine-tuning', 'training', 'tfjs'], sideEffects: false },
  export: { keywords: ['onnx', 'export', 'transformers.js'], sideEffects: false },
  'quantize-ptq': { keywords: ['quantization', 'int8', 'onnx'], sideEffects: false },
  jobs: { keywords: ['jobs', 'queue'], sideEffects: false },
  cli: { keywords: ['cli', 'fine-tuning'], sideEffects: ['./dist/main.js', './src/main.ts'] },
  server: {
    keywords: ['server', 'labelling', 'annotation'],
    sideEffects: ['./dist/worker-entry.js', './src/worker-entry.ts'],
  },
};

const FILES = [
  'dist',
  '!dist/.tsbuildinfo',
  'src',
  '!src/**/*.test.ts',
  '!src/**/test-utils',
  'README.md',
  'CHANGELOG.md',
  'LICENSE',
];

/** Workspace package dirs (packages/*, apps/*) with a package.json that is not private. */
function publicPackageDirs() {
  const dirs = [];
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, group)).sort()) {
      const file = join(root, group, name, 'package.json');
      if (!existsSync(file)) continue;
      if (JSON.parse(readFileSync(file, 'utf8')).private) continue;
      dirs.push(join(root, group, name));
    }
  }
  return dirs;
}

/** The metadata fields for one package dir. */
function fieldsFor(dir) {
  const short = dir.split('/').pop();
  const spec = PACKAGES[short] ?? { keywords: [], sideEffects: false };
  return {
    repository: { type: 'git', url: REPOSITORY_URL, directory: relative(root, dir) },
    engines: { node: '>=20.19' },
    publishConfig: { access: 'public' },
    sideEffects: spec.sideEffects,
    keywords: [...COMMON_KEYWORDS, ...spec.keywords],
    files: FILES,
  };
}

const license = readFileSync(join(root, 'LICENSE'), 'utf8');
const problems = [];
for (const dir of publicPackageDirs()) {
  const file = join(dir, 'package.json');
  // Re-read right before writing: other people edit these files (dependencies) at the same time.
  const text = readFileSync(file, 'utf8');
  const pkg = JSON.parse(text);
  const want = fieldsFor(dir);
  for (const [k, v] of Object.entries(want)) {
    if (JSON.stringify(pkg[k]) !== JSON.stringify(v)) {
      problems.push(`${relative(root, file)}: ${k}`);
      pkg[k] = v;
    }
  }
  const licensePath = join(dir, 'LICENSE');
  if (!existsSync(licensePath) || readFileSync(licensePath, 'utf8') !== license) {
    problems.push(`${relative(root, licensePath)}: missing or not the root LICENSE`);
    if (!check) writeFileSync(licensePath, license);
  }
  if (!check) {
    const out = `${JSON.stringify(pkg, null, 2)}\n`;
    if (out !== text) writeFileSync(file, out);
  }
}

if (check && problems.length > 0) {
  console.error(`package metadata out of date (run node scripts/package-metadata.mjs):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(check ? 'package metadata: ok' : `package metadata: ${problems.length} field(s) updated`);
