/**
 * `pnpm bench:embed`: the TinyViT image encoder (seeded fixture `tinyvit.pth`) as a user meets it, and
 * PyTorch's official MobileSAM on the same checkpoint and photos in the SAME run when it is here.
 *
 * 1. In a fresh process per rep (`--reps`, a child each): checkpoint load, session build, the FIRST
 *    image of the process (a 2048x1536 plant-seg-coco photo: decode, PIL-exact resize, normalise,
 *    encoder), then steady state: the encoder alone on that photo, 2 warm-up runs then the median of
 *    `--steady` runs. Each child also times the encoder with ORT's spinning workers on and off,
 *    interleaved (the default is off: `ImageEncoderSessionOptions`).
 * 2. The whole CLI path: `samtune embed` of `--photos` photos (plant-seg-coco `valid`, sorted) and of the
 *    first one alone: wall seconds, and the marginal seconds per photo `(wall(N) - wall(1)) / (N - 1)`.
 * 3. PyTorch, with `--sam-src DIR` (or `SAMTUNE_SAM_SRC`: a MobileSAM checkout) and a python with
 *    torch (`SAMTUNE_PYTHON`, else `python3`, else `/usr/bin/python3`): `bench/pytorch/sam_speed.py`
 *    over the same photos: model load, first `set_image`, steady `set_image` (median of the later
 *    photos), decode + `set_image` over all. The three parts alternate rep by rep (same load for each).
 *
 *   pnpm bench:embed [--reps 3] [--photos 12] [--steady 5] [--sam-src DIR]
 *
 * Writes bench/results/embed.{json,md} with the machine and the load average at the start and end.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SamModel } from '@samtune/sam-model';
import { preprocessImage, readImage } from '@samtune/transforms';
import { machineInfo, median, writeResult } from './machine.js';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    photos: { type: 'string', default: '12' },
    steady: { type: 'string', default: '5' },
    'sam-src': { type: 'string', default: process.env.SAMTUNE_SAM_SRC ?? '' },
    child: { type: 'string' },
  },
});
const ROOT = resolve(import.meta.dirname, '..');
const CKPT = resolve(ROOT, '../shared/fixtures/sam-reference/tinyvit.pth');
const VALID = resolve(ROOT, '../shared/datasets/plant-seg-coco/valid');
const since = (t0: number): number => (performance.now() - t0) / 1000;

/** What one fresh process measures (seconds). */
interface ProcessRun {
  loadSeconds: number;
  sessionSeconds: number;
  firstImageSeconds: number;
  firstEncoderSeconds: number;
  steadySeconds: number;
  /** Process CPU seconds (all threads) of a steady encoder run. */
  steadyCpuSeconds: number;
  steadySpinningSeconds: number;
}

async function child(photo: string): Promise<ProcessRun> {
  let t0 = performance.now();
  const model = await SamModel.load(CKPT);
  const loadSeconds = since(t0);
  t0 = performance.now();
  const encoder = await model.encoder();
  const spinning = await (await SamModel.load(CKPT, { session: { spinning: true } })).encoder();
  const sessionSeconds = since(t0) / 2;
  t0 = performance.now();
  const pre = preprocessImage(await readImage(photo), model.config.pixelMean, model.config.pixelStd);
  const t1 = performance.now();
  await encoder.embed(pre.tensor);
  const firstImageSeconds = since(t0);
  const firstEncoderSeconds = since(t1);
  for (let i = 0; i < 2; i++) for (const e of [encoder, spinning]) await e.embed(pre.tensor);
  const times: [number[], number[]] = [[], []];
  const cpu: number[] = [];
  for (let i = 0; i < Number(values.steady); i++)
    for (const [k, e] of [encoder, spinning].entries()) {
      const t = performance.now();
      const c = process.cpuUsage();
      await e.embed(pre.tensor);
      times[k]?.push(since(t));
      const d = process.cpuUsage(c);
      if (k === 0) cpu.push((d.user + d.system) / 1e6);
    }
  return {
    loadSeconds,
    sessionSeconds,
    firstImageSeconds,
    firstEncoderSeconds,
    steadySeconds: median(times[0]),
    steadyCpuSeconds: median(cpu),
    steadySpinningSeconds: median(times[1]),
  };
}

if (values.child) {
  console.log(JSON.stringify(await child(values.child)));
  process.exit(0);
}

function run(cmd: string, args: readonly string[]): { seconds: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr.slice(-3000)}`);
  return { seconds: since(t0), stdout: r.stdout };
}

/** A python with torch, or why there is none. */
function findPython(): { python?: string; why: string } {
  if (!values['sam-src']) return { why: 'no --sam-src / SAMTUNE_SAM_SRC (a MobileSAM checkout)' };
  for (const py of [process.env.SAMTUNE_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean) as string[]) {
    const r = spawnSync(py, ['-c', 'import torch, torchvision, PIL; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python: py, why: `${py}, torch ${r.stdout.trim()}` };
  }
  return { why: 'no python with torch, torchvision and PIL (Debian: python3-torch python3-torchvision python3-pil)' };
}

const loadStart = +(loadavg()[0] ?? 0).toFixed(2);
const work = mkdtempSync(join(tmpdir(), 'samtune-bench-embed-'));
const photos = join(work, 'photos');
const one = join(work, 'one');
mkdirSync(photos);
mkdirSync(one);
const names = readdirSync(VALID)
  .filter((n) => n.endsWith('.jpg'))
  .sort()
  .slice(0, Number(values.photos));
for (const n of names) copyFileSync(join(VALID, n), join(photos, n));
copyFileSync(join(VALID, names[0] as string), join(one, names[0] as string));
const py = findPython();
interface PyRun {
  loadSeconds: number;
  firstSetImageSeconds: number;
  steadySetImageSeconds: number;
  steadySetImageCpuSeconds: number;
  totalSeconds: number;
  clickMsMedian: number;
}
const procs: ProcessRun[] = [];
const cli: { all: number[]; one: number[] } = { all: [], one: [] };
const torch: PyRun[] = [];
try {
  for (let r = 0; r < Number(values.reps); r++) {
    const tsx = ['exec', 'tsx', '--conditions=@samtune/source', 'bench/embed.bench.ts'];
    procs.push(JSON.parse(run('pnpm', [...tsx, '--child', join(one, names[0] as string)]).stdout) as ProcessRun);
    const embed = (dir: string): number =>
      run('pnpm', ['-s', 'samtune', 'embed', '--checkpoint', CKPT, '--images', dir, '--out', join(work, `out-${r}`)])
        .seconds;
    cli.all.push(embed(photos));
    cli.one.push(embed(one));
    if (py.python) {
      const args = ['bench/pytorch/sam_speed.py', '--sam-src', values['sam-src'] as string, '--checkpoint', CKPT];
      torch.push(JSON.parse(run(py.python, [...args, '--images', photos, '--threads', '2']).stdout) as PyRun);
    }
    process.stderr.write(`rep ${r + 1}/${values.reps} done\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const med = (xs: readonly ProcessRun[], k: keyof ProcessRun): number => median(xs.map((x) => x[k]));
const n = names.length;
const marginal = (median(cli.all) - median(cli.one)) / (n - 1);
const pyMed = (k: keyof PyRun): number => median(torch.map((t) => t[k]));
const result = {
  source: 'bench/embed.bench.ts',
  machine: { ...machineInfo(), loadAverage1mStart: loadStart, loadAverage1mEnd: +(loadavg()[0] ?? 0).toFixed(2) },
  checkpoint: 'tinyvit.pth (seeded MobileSAM fixture)',
  photos: names,
  reps: Number(values.reps),
  process: procs,
  cli: { wallSeconds: cli, marginalSecondsPerPhoto: marginal },
  pytorch: py.python ? { runs: torch, found: py.why } : { notRun: py.why },
};
writeResult(resolve(import.meta.dirname, 'results/embed.json'), JSON.stringify(result, null, 2));
const f = (x: number, d = 2): string => x.toFixed(d);
const m = result.machine;
const md = [
  '# Image encoder (TinyViT): first image, steady state, the CLI, and PyTorch in the same run',
  '',
  `Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.date}; load average (1 min) ${m.loadAverage1mStart} at the start, ${m.loadAverage1mEnd} at the end: a SHARED machine, so compare within this run (the parts alternate rep by rep). Medians of ${values.reps} reps; photos: the first ${n} of plant-seg-coco \`valid\` (2048x1536).`,
  '',
  '| samtune | seconds (median) |',
  '| --- | ---: |',
  `| checkpoint load / encoder session build (fresh process) | ${f(med(procs, 'loadSeconds'))} / ${f(med(procs, 'sessionSeconds'))} |`,
  `| first image of a process: decode + resize + encoder (encoder alone) | ${f(med(procs, 'firstImageSeconds'))} (${f(med(procs, 'firstEncoderSeconds'))}) |`,
  `| steady state, encoder alone (median of ${values.steady} after 2 warm-up runs) | ${f(med(procs, 'steadySeconds'))} |`,
  `| ... its process CPU seconds (all threads) | ${f(med(procs, 'steadyCpuSeconds'))} |`,
  `| ... the encoder with ORT's spinning workers on (interleaved with the default, off) | ${f(med(procs, 'steadySpinningSeconds'))} |`,
  `| \`samtune embed\` of ${n} photos, whole CLI (wall) | ${f(median(cli.all))} |`,
  `| \`samtune embed\` of 1 photo, whole CLI (wall) | ${f(median(cli.one))} |`,
  `| marginal per photo through the CLI, (wall(${n}) - wall(1)) / ${n - 1} | ${f(marginal)} |`,
  '',
  ...(py.python
    ? [
        `PyTorch (${py.why}, 2 threads; official MobileSAM \`SamPredictor\`, same checkpoint and photos):`,
        '',
        '| work | PyTorch s | samtune s | samtune / PyTorch |',
        '| --- | ---: | ---: | ---: |',
        `| first image after model load (set_image; samtune: decode + resize + encoder) | ${f(pyMed('firstSetImageSeconds'))} | ${f(med(procs, 'firstImageSeconds'))} | ${f(med(procs, 'firstImageSeconds') / pyMed('firstSetImageSeconds'))} |`,
        `| steady set_image vs steady encoder, wall | ${f(pyMed('steadySetImageSeconds'))} | ${f(med(procs, 'steadySeconds'))} | ${f(med(procs, 'steadySeconds') / pyMed('steadySetImageSeconds'))} |`,
        `| steady set_image vs steady encoder, process CPU seconds | ${f(pyMed('steadySetImageCpuSeconds'))} | ${f(med(procs, 'steadyCpuSeconds'))} | ${f(med(procs, 'steadyCpuSeconds') / pyMed('steadySetImageCpuSeconds'))} |`,
        `| ${n} photos: decode + set_image each (PyTorch, model loaded) vs the whole \`samtune embed\` CLI | ${f(pyMed('totalSeconds'))} | ${f(median(cli.all))} | ${f(median(cli.all) / pyMed('totalSeconds'))} |`,
        `| model load | ${f(pyMed('loadSeconds'))} | ${f(med(procs, 'loadSeconds') + med(procs, 'sessionSeconds'))} | |`,
      ]
    : [`PyTorch not run: ${py.why}.`]),
  '',
  'Command: `pnpm bench:embed [--reps 3] [--photos 12] [--steady 5] [--sam-src DIR]` (PyTorch side: `bench/pytorch/sam_speed.py`).',
];
writeResult(resolve(import.meta.dirname, 'results/embed.md'), md.join('\n'));
console.log(md.join('\n'));
