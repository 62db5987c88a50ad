/**
 * `pnpm bench:demo-rss`: peak resident memory of `pnpm demo` (the whole fine-tuning demo: embedding
 * pass, zero-shot eval, 5 epochs on the ORT training engine with validation), measured by GNU time
 * (`/usr/bin/time -f %M`, the largest RSS of the process tree's processes), once with a cold
 * embedding cache (a fresh SAMTUNE_CACHE, so the encoder session is built) and once warm.
 * Writes bench/results/demo-rss.{json,md}. Needs /usr/bin/time (Debian package `time`).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { machineInfo, writeResult } from './machine.js';

const root = resolve(import.meta.dirname, '..');
const seeded = join(
  process.env.SAMTUNE_CACHE || join(homedir(), '.cache', 'samtune'),
  'seeded-tiny_vit-seed0.safetensors',
);
if (!existsSync('/usr/bin/time')) throw new Error('bench:demo-rss: /usr/bin/time not found (apt-get install time)');

function run(cache: string): { peakRssMiB: number; seconds: number; exit: number } {
  const out = join(cache, 'time.txt');
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', out, 'pnpm', 'demo'], {
    cwd: root,
    env: { ...process.env, SAMTUNE_CACHE: cache },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const kb = Number(readFileSync(out, 'utf8').trim().split('\n').pop());
  return {
    peakRssMiB: +(kb / 1024).toFixed(0),
    seconds: +((performance.now() - t0) / 1000).toFixed(1),
    exit: r.status ?? -1,
  };
}

const cache = mkdtempSync(join(tmpdir(), 'samtune-demo-rss-'));
if (existsSync(seeded)) copyFileSync(seeded, join(cache, 'seeded-tiny_vit-seed0.safetensors'));
const cold = run(cache);
const warm = run(cache);
rmSync(cache, { recursive: true, force: true });
const result = { machine: machineInfo(), cold, warm, goalMiB: 2048 };
const md = `# Peak RSS of \`pnpm demo\` (bench:demo-rss)

${result.machine.cpu}, ${result.machine.cores} cores, node ${result.machine.node}, 1-min load ${result.machine.loadAverage1m} at the start. ${result.machine.date}

| run | peak RSS | wall | exit |
| --- | --- | --- | --- |
| cold embedding cache (encoder session built, 10 images embedded) | ${cold.peakRssMiB} MiB | ${cold.seconds} s | ${cold.exit} |
| warm embedding cache | ${warm.peakRssMiB} MiB | ${warm.seconds} s | ${warm.exit} |

Goal: <= 2 GiB (${result.goalMiB} MiB); issue 9 measured 4.4 GB before the ORT engines. What brought it
down: the ORT training engine instead of tfjs-wasm (whose heap never shrinks), the encoder session
released after the embedding pass, and ORT CPU memory arenas in two training sessions only (full
micro-batches and single prompts; an image's remainder runs prompt by prompt), given back when each
epoch's training pass ends, before validation (with an arena in every session and none given back,
the same warm demo peaked at 3628 MiB; with \`--runtime.ort-arena false\` it peaks at ~1.4 GiB).

Regenerate: \`pnpm bench:demo-rss\`.
`;
writeResult(resolve(import.meta.dirname, 'results/demo-rss.json'), JSON.stringify(result, null, 2));
writeResult(resolve(import.meta.dirname, 'results/demo-rss.md'), md);
console.log(md);
