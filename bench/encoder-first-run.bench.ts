/**
 * `pnpm bench:encoder-first-run`: what the first images of a process cost in the TinyViT encoder, by
 * phase, in fresh processes that alternate ORT's memory pattern on (ORT's default, the encoder before
 * issue 19) and off (`SessionOptions.memPattern` false, the encoder's default now).
 *
 * Each child: checkpoint load, graph record + serialize, ORT session create, decode + resize of one
 * plant-seg-coco photo (2048x1536), then `--runs` encoder runs; per phase the wall seconds, the
 * process CPU seconds (all threads; steadier than wall on a shared machine) and the minor page faults
 * (fresh memory touched: arena growth). Medians over `--reps` children per variant.
 *
 *   pnpm bench:encoder-first-run [--reps 3] [--runs 4]
 *
 * Writes bench/results/encoder-first-run.{json,md}.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SamModel, recordImageEncoderGraph } from '@samtune/sam-model';
import { createSession } from '@samtune/onnx';
import { preprocessImage, readImage } from '@samtune/transforms';
import { machineInfo, median, writeResult } from './machine.js';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    runs: { type: 'string', default: '4' },
    child: { type: 'string' },
    out: { type: 'string', default: resolve(import.meta.dirname, 'results') },
  },
});
const ROOT = resolve(import.meta.dirname, '..');
const CKPT = resolve(ROOT, '../shared/fixtures/sam-reference/tinyvit.pth');
const VALID = resolve(ROOT, '../shared/datasets/plant-seg-coco/valid');
const VARIANTS = { 'pattern-on': true, 'pattern-off': false } as const;
type Variant = keyof typeof VARIANTS;

interface Phase {
  phase: string;
  wall: number;
  cpu: number;
  faults: number;
}

async function child(variant: Variant): Promise<Phase[]> {
  const phases: Phase[] = [];
  let t = performance.now();
  let c = process.cpuUsage();
  let f = process.resourceUsage().minorPageFault;
  const mark = (phase: string): void => {
    const d = process.cpuUsage(c);
    const faults = process.resourceUsage().minorPageFault;
    phases.push({ phase, wall: (performance.now() - t) / 1000, cpu: (d.user + d.system) / 1e6, faults: faults - f });
    [t, c, f] = [performance.now(), process.cpuUsage(), faults];
  };
  const model = await SamModel.load(CKPT);
  mark('checkpoint load');
  const bytes = recordImageEncoderGraph(model.config.imageEncoder, model.weights).builder.toModelBytes();
  mark('graph record + serialize');
  const session = await createSession(bytes, { spinning: false, memPattern: VARIANTS[variant] });
  mark('ORT session create');
  const photo = readdirSync(VALID)
    .filter((n) => n.endsWith('.jpg'))
    .sort()[0] as string;
  const pre = preprocessImage(await readImage(join(VALID, photo)), model.config.pixelMean, model.config.pixelStd);
  mark('decode + resize');
  for (let i = 1; i <= Number(values.runs); i++) {
    await session.run({ images: { dtype: 'float32', shape: [1, 3, 1024, 1024], data: pre.tensor } });
    mark(`encoder run ${i}`);
  }
  await session.release();
  return phases;
}

if (values.child) {
  console.log(JSON.stringify(await child(values.child as Variant)));
  process.exit(0);
}

const started = machineInfo();
const runs: { variant: Variant; rep: number; load: number; phases: Phase[] }[] = [];
for (let rep = 1; rep <= Number(values.reps); rep++)
  for (const variant of Object.keys(VARIANTS) as Variant[]) {
    const load = +(loadavg()[0] ?? 0).toFixed(2);
    const args = ['--conditions=@samtune/source', 'bench/encoder-first-run.bench.ts', '--child', variant];
    const r = spawnSync('node_modules/.bin/tsx', [...args, '--runs', values.runs as string], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`bench:encoder-first-run: ${variant} exited ${r.status}:\n${r.stderr}`);
    runs.push({ variant, rep, load, phases: JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as Phase[] });
    process.stderr.write(`rep ${rep} ${variant} done (load ${loadavg()[0]?.toFixed(2)})\n`);
  }
const names = runs[0]?.phases.map((p) => p.phase) ?? [];
const med = (v: Variant, phase: string, k: 'wall' | 'cpu' | 'faults'): number =>
  median(runs.filter((r) => r.variant === v).map((r) => r.phases.find((p) => p.phase === phase)?.[k] ?? NaN));
const table = names.map((phase) => ({
  phase,
  ...Object.fromEntries(
    (Object.keys(VARIANTS) as Variant[]).map((v) => [
      v,
      { wall: med(v, phase, 'wall'), cpu: med(v, phase, 'cpu'), faults: med(v, phase, 'faults') },
    ]),
  ),
}));
const loadEnd = +(loadavg()[0] ?? 0).toFixed(2);
writeResult(
  join(values.out as string, 'encoder-first-run.json'),
  JSON.stringify(
    { source: 'bench/encoder-first-run.bench.ts', machine: { ...started, loadEnd }, table, runs },
    null,
    2,
  ),
);
const row = (p: (typeof table)[number], v: Variant): string => {
  const x = (p as unknown as Record<Variant, { wall: number; cpu: number; faults: number }>)[v];
  return `${x.wall.toFixed(2)} / ${x.cpu.toFixed(2)} / ${Math.round(x.faults)}`;
};
const md = [
  '# Image encoder (TinyViT): the first runs of a fresh process, by phase',
  '',
  `Machine: ${started.cpu}, ${started.cores} cores, Node ${started.node}, ${started.date}; load average (1 min) ${runs.map((r) => r.load).join(', ')} at the start of each child, ${loadEnd} at the end: a SHARED machine, so wall seconds move with the load; CPU seconds and page faults are steadier. Medians of ${values.reps} fresh processes per variant, alternating.`,
  '',
  '| phase | memory pattern on (ORT default, before): wall s / CPU s / minor faults | off (now): wall s / CPU s / minor faults |',
  '| --- | ---: | ---: |',
  ...table.map((p) => `| ${p.phase} | ${row(p, 'pattern-on')} | ${row(p, 'pattern-off')} |`),
  '',
  'Command: `pnpm bench:encoder-first-run [--reps 3] [--runs 4]`.',
];
writeResult(join(values.out as string, 'encoder-first-run.md'), md.join('\n'));
console.log(md.join('\n'));
