/**
 * `samtune train`: parses its arguments (`train-args.ts`: the training config's keys as flags), runs the
 * trainer (in a worker thread, `training.ts`) and prints the before/after table, or `--json` the result.
 */
import { configHelp } from '@samtune/trainer/config';
import { defineCommand } from '../flags.js';
import { parseTrainArgs, TRAIN_FLAGS } from './train-args.js';

const SYNOPSIS = `usage: samtune train --checkpoint <name|path> --data-root <dir> --out runs/<name> [flags]

Fine-tunes SAM's mask decoder (image and prompt encoders frozen) with an embedding cache, Adam,
early stopping on validation F1, best/last checkpoints and a report (report.md, curves.svg).`;

export const trainCommand = defineCommand({
  path: ['train'],
  summary: 'fine-tune the mask decoder on a dataset (early stopping, checkpoints, report)',
  synopsis: SYNOPSIS,
  flags: TRAIN_FLAGS,
  dotted: true,
  notes: ['', 'config keys (--<key> <value>, write negative values as --<key>=-1; or in --config):', ...configHelp()],
  async run(_flags, io, { argv }) {
    const args = parseTrainArgs(argv);
    const { TrainingInterruptedError, exitCodeForSignal } = await import('@samtune/trainer');
    const { trainResultJson, trainWithProgress } = await import('../training.js');
    const { resultTable } = await import('../render.js');
    let r;
    try {
      r = await trainWithProgress(args, io);
    } catch (e) {
      if (!(e instanceof TrainingInterruptedError)) throw e;
      io.err(`samtune train: ${e.message}`);
      return exitCodeForSignal(e.signal);
    }
    if (args.json) {
      io.out(JSON.stringify(trainResultJson(r)));
      return 0;
    }
    io.out(resultTable(r.zeroShot, r.best, `after (best, epoch ${r.bestEpoch ?? '–'})`));
    io.out(`\n${r.epochs} epochs (${r.stopReason}). best: ${r.files.best}\nreport: ${r.files.report}`);
    return 0;
  },
});
