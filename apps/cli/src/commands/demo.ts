/**
 * `samtune demo` (`pnpm demo`): fine-tunes on the photos shipped in examples/plant-mini and prints the
 * before/after metrics. Uses the official MobileSAM checkpoint when cached or downloadable, else says
 * so and uses a seeded model of the same shape.
 */
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { demoTrainConfig, resolveDemoCheckpoint } from '@samtune/trainer';
import { UsageError, type CliCommand } from '../command.js';
import { resultTable, trainWithProgress } from './train.js';

const USAGE = `usage: samtune demo [--out runs/demo] [--epochs n] [--offline] [--no-worker]

Fine-tunes MobileSAM's mask decoder on examples/plant-mini (6 train / 4 validation photos, CC BY 4.0)
and prints F1/IoU/Dice before and after. Uses the official MobileSAM checkpoint when it is cached or
can be downloaded; otherwise a seeded model (said plainly). A few minutes on 2 cores.

  --out <dir>      run directory (default runs/demo; replaced on each demo run)
  --epochs <n>     epochs (default 5)
  --offline        do not try to download the checkpoint
  --no-worker      train on the main thread`;

/** The repo root: the nearest ancestor of the working directory holding examples/plant-mini. */
export function findRepoRoot(start = process.cwd()): string {
  let dir = resolve(start);
  while (!existsSync(join(dir, 'examples', 'plant-mini'))) {
    const up = dirname(dir);
    if (up === dir)
      throw new UsageError(`cannot find examples/plant-mini above ${start}; run the demo from the samtune repository`);
    dir = up;
  }
  return dir;
}

export const demoCommand: CliCommand = {
  path: ['demo'],
  summary: 'fine-tune on the bundled plant photos and print before/after metrics',
  usage: USAGE,
  async run(argv, io) {
    let values;
    try {
      ({ values } = parseArgs({
        args: argv,
        options: {
          out: { type: 'string' },
          epochs: { type: 'string' },
          offline: { type: 'boolean' },
          'no-worker': { type: 'boolean' },
        },
        strict: true,
      }));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const root = findRepoRoot();
    const ckpt = await resolveDemoCheckpoint({ offline: values.offline ?? false });
    io.err(ckpt.message);
    const out = resolve(values.out ?? join(root, 'runs', 'demo'));
    rmSync(out, { recursive: true, force: true });
    const config = demoTrainConfig(root, ckpt.path, out);
    if (values.epochs !== undefined) {
      const n = Number(values.epochs);
      if (!Number.isInteger(n) || n < 1)
        throw new UsageError(`--epochs must be an integer >= 1, got '${values.epochs}'`);
      config.training.epochs = n;
    }
    const r = await trainWithProgress({ config, resume: false, worker: !values['no-worker'] }, io);
    io.out(
      `\nsamtune demo: ${ckpt.official ? 'official MobileSAM' : 'SEEDED stand-in model (metrics are meaningless)'}, examples/plant-mini, ${r.epochs} epochs\n`,
    );
    io.out(resultTable(r.zeroShot, r.best, `after (best, epoch ${r.bestEpoch ?? '–'})`));
    io.out(`\nreport: ${r.files.report}`);
    return 0;
  },
};
