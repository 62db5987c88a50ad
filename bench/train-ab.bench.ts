/**
 * `pnpm bench:train-ab`: the decoder training step of `bench/train.bench.ts` (1 and 8 box prompts;
 * engines tfjs, ort, ort without arenas, alternating rep by rep) for SEVERAL checkouts in one run, e.g.
 * an older commit's tree beside this one, to tell a regression of the ORT/tfjs ratio from a change of
 * the machine's load. Runs alternate tree by tree for `--rounds` rounds, so every tree sees the same
 * load; the per-rep figures are read from each run's progress output (older trees' benches write their
 * results elsewhere), and the load average is recorded around every run.
 *
 *   pnpm bench:train-ab --tree old=/tmp/old-tree --tree new=. [--rounds 2] [--reps 3]
 *
 * A tree is a checkout with node_modules (a hard-linked copy of this checkout's works when the
 * dependencies agree) and the shared fixtures at `../shared` beside it.
 * Writes bench/results/train-ab.{json,md}.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo, median, writeResult } from './machine.js';

const { values } = parseArgs({
  options: {
    tree: { type: 'string', multiple: true, default: [] },
    rounds: { type: 'string', default: '2' },
    reps: { type: 'string', default: '3' },
    out: { type: 'string', default: resolve(import.meta.dirname, 'results') },
  },
});
const trees = (values.tree as string[]).map((t) => {
  const at = t.indexOf('=');
  if (at <= 0) throw new Error(`bench:train-ab(--tree): expected label=path, got '${t}'`);
  return { label: t.slice(0, at), path: resolve(t.slice(at + 1)) };
});
if (trees.length < 2) throw new Error(`bench:train-ab(--tree): expected at least 2 trees, got ${trees.length}`);
const VARIANTS = ['tfjs', 'ort', 'ort-no-arena'] as const;
type Variant = (typeof VARIANTS)[number];
const SIZES = [1, 8] as const;
const PROGRESS = /(\d+) prompt\(s\), rep \d+\/\d+, (tfjs|ort|ort-no-arena): (\d+(?:\.\d+)?) ms\/prompt/g;

interface Run {
  tree: string;
  round: number;
  loadStart: number;
  loadEnd: number;
  /** ms per prompt by `${prompts}:${variant}`, rep by rep. */
  ms: Record<string, number[]>;
}

const load = (): number => +(loadavg()[0] ?? 0).toFixed(2);
const work = mkdtempSync(join(tmpdir(), 'samtune-train-ab-'));
const runs: Run[] = [];
const started = machineInfo();
try {
  for (let round = 1; round <= Number(values.rounds); round++)
    for (const t of trees) {
      const loadStart = load();
      const args = ['--conditions=@samtune/source', 'bench/train.bench.ts', '--reps', values.reps as string];
      const r = spawnSync('node_modules/.bin/tsx', [...args, '--epoch-engines', 'none', '--out', join(work, t.label)], {
        cwd: t.path,
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      });
      if (r.status !== 0) throw new Error(`bench:train-ab: ${t.label} exited ${r.status}:\n${r.stderr.slice(-3000)}`);
      const ms: Record<string, number[]> = {};
      for (const m of r.stderr.matchAll(PROGRESS)) (ms[`${m[1]}:${m[2]}`] ??= []).push(Number(m[3]));
      runs.push({ tree: t.label, round, loadStart, loadEnd: load(), ms });
      process.stderr.write(`round ${round} ${t.label} done (load ${load()})\n`);
    }
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** Medians over every rep of every round of a tree, and the ORT/tfjs ratio of each round. */
const summary = trees.map(({ label, path }) => {
  const mine = runs.filter((r) => r.tree === label);
  const all = (n: number, v: Variant): number[] => mine.flatMap((r) => r.ms[`${n}:${v}`] ?? []);
  const sizes = SIZES.map((n) => {
    const med = Object.fromEntries(VARIANTS.map((v) => [v, median(all(n, v))])) as Record<Variant, number>;
    const perRound = mine.map((r) => median(r.ms[`${n}:ort`] ?? []) / median(r.ms[`${n}:tfjs`] ?? []));
    return { prompts: n, medianMsPerPrompt: med, ortOverTfjs: med.ort / med.tfjs, ortOverTfjsByRound: perRound };
  });
  return { tree: label, path, sizes };
});
const result = {
  source: `bench/train-ab.bench.ts (${values.rounds} rounds, ${values.reps} reps per engine and size in each run)`,
  machine: { ...started, loadAverage1mEnd: load() },
  trees: summary,
  runs,
};
writeResult(join(values.out as string, 'train-ab.json'), JSON.stringify(result, null, 2));
const f3 = (x: number): string => x.toFixed(3);
const md = [
  '# bench:train A/B: the training step of several trees in one run',
  '',
  `Machine: ${started.cpu}, ${started.cores} cores, Node ${started.node}, ${started.date}. Runs alternate tree by tree (${values.rounds} rounds; ${values.reps} reps per engine and size in each run, engines alternating rep by rep); load average (1 min) around each run: ${runs.map((r) => `${r.tree}#${r.round} ${r.loadStart}→${r.loadEnd}`).join(', ')}.`,
  '',
  '| tree | prompts | tfjs ms/prompt | ort | ort / tfjs | ort / tfjs by round | ort, no arena |',
  '| --- | ---: | ---: | ---: | ---: | --- | ---: |',
  ...summary.flatMap((t) =>
    t.sizes.map(
      (s) =>
        `| ${t.tree} | ${s.prompts} | ${s.medianMsPerPrompt.tfjs.toFixed(0)} | ${s.medianMsPerPrompt.ort.toFixed(0)} | ${f3(s.ortOverTfjs)} | ${s.ortOverTfjsByRound.map(f3).join(', ')} | ${s.medianMsPerPrompt['ort-no-arena'].toFixed(0)} |`,
    ),
  ),
  '',
  `Trees: ${summary.map((t) => `${t.tree} = ${t.path}`).join('; ')}.`,
  '',
  'Command: `pnpm bench:train-ab --tree A=DIR --tree B=DIR [--rounds N] [--reps N]`.',
];
writeResult(join(values.out as string, 'train-ab.md'), md.join('\n'));
console.log(md.join('\n'));
