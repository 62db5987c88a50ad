/**
 * `pnpm bench:speed`: the user-facing times of issue 19 in ONE run, through the CLI as a user runs it,
 * on ../shared/datasets/plant-seg-coco (2048x1536 photos) with the seeded TinyViT checkpoint.
 *
 * 1. `train` for 2 epochs with the default prompts (every instance), from a COLD embedding cache: wall
 *    time, and its phases from the run's `train.jsonl` (embedding pass, targets/masks, zero-shot and
 *    per-epoch validation, training passes); validation's share of the wall time.
 * 2. `eval` of `valid` (104 box prompts) with the WARM cache the train run left: wall and the evaluate
 *    phase, median of `--reps`.
 * 3. `embed` of a folder of 12 photos: wall, median of `--reps`.
 * 4. The training step at 1 and 8 prompts and the engines' ratio: `bench:train --epoch-engines none`
 *    run as a child, its JSON read back.
 * 5. `optimize` with default settings: only with `--optimize` (it takes many minutes).
 *
 * PyTorch in the same run needs python3 with torch and the official segment-anything / MobileSAM
 * sources (`SAMTUNE_SAM_SRC`); when they are missing the result says so and holds samtune's figures
 * alone. No number is written by hand.
 *
 *   pnpm bench:speed [--reps 5] [--optimize] [--skip-train]
 *
 * Writes bench/results/speed.json and speed.md with the machine and the load average (start and end).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo, median, writeResult } from './machine.js';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    optimize: { type: 'boolean', default: false },
    'skip-train': { type: 'boolean', default: false },
    out: { type: 'string', default: resolve(import.meta.dirname, 'results') },
  },
});
const ROOT = resolve(import.meta.dirname, '..');
const SHARED = resolve(ROOT, '../shared');
const CKPT = join(SHARED, 'fixtures/sam-reference/tinyvit.pth');
const DATA = join(SHARED, 'datasets/plant-seg-coco');
const REPS = Number(values.reps);
const work = mkdtempSync(join(tmpdir(), 'samtune-bench-speed-'));
const cache = join(work, 'cache');

/** Runs `pnpm -s samtune …` (the README's command), returns the wall seconds; throws on failure. */
function samtune(args: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync('pnpm', ['-s', 'samtune', ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`samtune ${args.join(' ')} exited ${r.status}:\n${r.stderr.slice(-4000)}`);
  return seconds;
}

interface Phases {
  embedding: number;
  targets: number;
  validation: number;
  training: number;
}

/** Phase seconds of a run folder's `train.jsonl` (`{ time, ...event }` lines). */
function trainPhases(runDir: string): Phases {
  const events = readFileSync(join(runDir, 'train.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { time: string; type: string; seconds?: number; record?: { trainSeconds: number } });
  const at = (e: { time: string }): number => Date.parse(e.time) / 1000;
  // Progress events are not logged: the targets (masks decoded, low-res targets) and the engine's
  // start are the time from the embedding pass's end to the start of the zero-shot validation.
  const embedDone = events.find((e) => e.type === 'embed-done');
  const firstEval = events.find((e) => e.type === 'eval-done');
  const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
  return {
    embedding: sum(events.filter((e) => e.type === 'embed-done').map((e) => e.seconds ?? 0)),
    targets: embedDone && firstEval ? at(firstEval) - (firstEval.seconds ?? 0) - at(embedDone) : Number.NaN,
    validation: sum(events.filter((e) => e.type === 'eval-done').map((e) => e.seconds ?? 0)),
    training: sum(events.filter((e) => e.type === 'epoch-end').map((e) => e.record?.trainSeconds ?? 0)),
  };
}

/** Whether PyTorch and the official sources are here (then they would run in this process's run). */
function pytorchStatus(): string {
  const r = spawnSync('python3', ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.status !== 0) return 'not available: python3 has no torch (Debian: apt-get install python3-torch)';
  if (!process.env.SAMTUNE_SAM_SRC)
    return `torch ${r.stdout.trim()} found, but SAMTUNE_SAM_SRC (segment-anything / MobileSAM sources) is not set`;
  return `torch ${r.stdout.trim()} found; PyTorch's embedding runs in the same run as samtune's in \`pnpm bench:embed --sam-src DIR\` (bench/pytorch/sam_speed.py), not here`;
}

const load = { start: +(loadavg()[0] ?? 0).toFixed(2), end: 0 };
const result: Record<string, unknown> = { machine: machineInfo(), pytorch: pytorchStatus() };
try {
  if (!values['skip-train']) {
    const run = join(work, 'run');
    const wall = samtune([
      'train',
      ...['--checkpoint', CKPT, '--data-root', DATA, '--out', run, '--epochs', '2', '--cache-dir', cache],
    ]);
    const p = trainPhases(run);
    result.train = { wallSeconds: wall, phases: p, validationShare: p.validation / wall, goalSeconds: 360 };
  }
  const evalArgs = ['eval', '--checkpoint', CKPT, '--data-root', DATA, '--subset', 'valid', '--cache-dir', cache];
  // Without the train run the cache is cold: fill it first (untimed), so every rep is a warm eval.
  if (values['skip-train']) samtune([...evalArgs, '--json']);
  const evalWalls: number[] = [];
  for (let i = 0; i < REPS; i++) evalWalls.push(samtune([...evalArgs, '--json']));
  result.eval = { wallSeconds: evalWalls, medianWallSeconds: median(evalWalls), goalSeconds: 20 };

  const photos = join(work, 'photos');
  mkdirSync(photos);
  const valid = join(DATA, 'valid');
  for (const f of readdirSync(valid)
    .filter((n) => n.endsWith('.jpg'))
    .sort()
    .slice(0, 12))
    copyFileSync(join(valid, f), join(photos, f));
  const embedWalls: number[] = [];
  for (let i = 0; i < REPS; i++)
    embedWalls.push(samtune(['embed', '--checkpoint', CKPT, '--images', photos, '--out', join(work, `emb-${i}`)]));
  result.embed12 = { wallSeconds: embedWalls, medianWallSeconds: median(embedWalls) };

  const stepOut = join(work, 'train-bench');
  const r = spawnSync(
    'pnpm',
    ['-s', 'bench:train', '--reps', String(REPS), '--epoch-engines', 'none', '--out', stepOut],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  result.trainStep =
    r.status === 0 ? JSON.parse(readFileSync(join(stepOut, 'train.json'), 'utf8')) : { error: r.stderr.slice(-2000) };

  if (values.optimize) {
    const exp = join(work, 'export');
    samtune(['export', '--checkpoint', CKPT, '--out', exp]);
    result.optimize = {
      wallSeconds: samtune(['optimize', '--model', exp, '--data-root', DATA, '--cache-dir', cache]),
      goalSeconds: 480,
    };
  } else result.optimize = 'not run (pass --optimize)';
} finally {
  load.end = +(loadavg()[0] ?? 0).toFixed(2);
  result.loadAverage1m = load;
  rmSync(work, { recursive: true, force: true });
}

const s1 = (x: number): string => x.toFixed(1);
/** The training step's rows: ms/prompt per engine and the ORT/tfjs ratio, at 1 and 8 prompts. */
function stepRows(step: unknown): string[] {
  const st = step as {
    steps?: { prompts: number; engine: string; medianMsPerPrompt: number }[];
    ortOverTfjs?: Record<string, number>;
  };
  if (!st.steps || !st.ortOverTfjs) return [`| training step (bench:train) | failed: see speed.json | |`];
  return [1, 8].map((n) => {
    const ms = (e: string): string =>
      (st.steps?.find((x) => x.prompts === n && x.engine === e)?.medianMsPerPrompt ?? Number.NaN).toFixed(0);
    return `| training step, ${n} prompt(s): ort / tfjs ms/prompt | ${ms('ort')} / ${ms('tfjs')} = ${(st.ortOverTfjs?.[n] ?? Number.NaN).toFixed(3)}x | <= ${n === 1 ? '0.25' : '0.13'}x |`;
  });
}
const train = result.train as { wallSeconds: number; phases: Phases; validationShare: number } | undefined;
const ev = result.eval as { medianWallSeconds: number; wallSeconds: number[] };
const emb = result.embed12 as { medianWallSeconds: number };
const lines = [
  '# bench:speed',
  '',
  `Machine: ${JSON.stringify(result.machine)}; load average (1 min) ${load.start} at start, ${load.end} at end.`,
  `PyTorch: ${String(result.pytorch)}.`,
  '',
  '| work | samtune | goal |',
  '| --- | --- | --- |',
  ...(train
    ? [
        `| train, 2 epochs, cold cache (wall) | ${s1(train.wallSeconds)} s | <= 360 s |`,
        `| ... embedding / targets + engine start / validation / training | ${s1(train.phases.embedding)} / ${s1(train.phases.targets)} / ${s1(train.phases.validation)} / ${s1(train.phases.training)} s | |`,
        `| ... validation share | ${(100 * train.validationShare).toFixed(1)}% | <= 20% |`,
      ]
    : []),
  `| eval valid (104 prompts), warm cache, median of ${ev.wallSeconds.length} (wall) | ${s1(ev.medianWallSeconds)} s | <= 20 s |`,
  `| embed 12 photos (wall, median) | ${s1(emb.medianWallSeconds)} s | <= 0.5x PyTorch |`,
  ...stepRows(result.trainStep),
  `| optimize (default settings) | ${typeof result.optimize === 'string' ? result.optimize : `${s1((result.optimize as { wallSeconds: number }).wallSeconds)} s`} | <= 480 s |`,
];
writeResult(join(values.out, 'speed.json'), JSON.stringify(result, null, 2));
writeResult(join(values.out, 'speed.md'), lines.join('\n'));
console.log(lines.join('\n'));
