/**
 * `samtune eval`: F1/IoU/Dice and COCO mask AP of a checkpoint (official: zero-shot, or a run's
 * best.safetensors) on a dataset subset (`evaluateCheckpoint`), optionally clicks-to-quality
 * (`--clicks`); prints them, `--out` writes them as JSON. `--predictions` scores a results file instead.
 */
import { basename, resolve } from 'node:path';
import type { CliCommand } from '../command.js';
import { defineCommand, parseFlagTable } from '../flags.js';
import { EVAL_FLAGS as FLAGS } from './eval-flags.js';
import { checkOutputFile } from '../output-file.js';
import { evalPredictionsCommand, hasPredictionsFlag } from './eval-predictions.js';

/** Parses `eval` flags. */
export const parseEvalArgs = (argv: readonly string[]) => parseFlagTable(argv, FLAGS).flags;

/** `, 2 crowd` / `, 2 crowd left out (--crowd ignore)`: what happened to crowd instances, when there were any. */
function crowdNote(kept: number, ignored: number): string {
  return `${kept > 0 ? `, ${kept} crowd` : ''}${ignored > 0 ? `, ${ignored} crowd left out (--crowd ignore)` : ''}`;
}

const scoring = defineCommand({
  path: ['eval'],
  summary: 'F1 / IoU / Dice of a checkpoint on a dataset subset (zero-shot or fine-tuned), or a results file scored',
  synopsis: `usage: samtune eval --checkpoint <name|path> --data-root <dir> [flags]

Pixel-level F1, IoU and Dice (micro-averaged over all instance masks, original image size,
threshold 0.5) and COCO mask AP (AP@[.5:.95], AP50, AP75; each mask scored by its predicted IoU)
with one box prompt per instance (or one point with --prompt point).`,
  flags: FLAGS,
  async run(f, io) {
    if (f.out !== undefined) checkOutputFile(f.out); // before the evaluation: a bad path loses no metrics
    const { evaluateCheckpoint } = await import('@samtune/evaluation');
    const { writeFileAtomic } = await import('@samtune/tensor-files');
    const { pct, trainEventRenderer } = await import('../render.js');
    const r = await evaluateCheckpoint({
      checkpoint: f.checkpoint,
      dataRoot: f['data-root'],
      format: f.format,
      ...(f.subset !== undefined ? { subset: f.subset } : {}),
      crowd: f.crowd,
      prompt: f.prompt,
      maxInstances: f['max-instances'],
      ...(f.clicks > 0 ? { clicks: f.clicks } : {}),
      ...(f['cache-dir'] ? { cacheDir: f['cache-dir'] } : {}),
      ...(f.backend ? { backend: f.backend } : {}),
      strict: f.strict,
      seed: f.seed,
      ...(f.images ? { images: f.images } : {}),
      ...(f['val-fraction'] !== undefined ? { valFraction: f['val-fraction'] } : {}),
      onEvent: trainEventRenderer(io),
    });
    const m = r.metrics;
    const metrics = {
      ...{ f1: m.f1, iou: m.iou, dice: m.dice, ap: m.ap, ap50: m.ap50, ap75: m.ap75 },
      ...{ images: m.images, instances: m.instances, crowd: m.crowd ?? 0, crowdIgnored: m.crowdIgnored ?? 0 },
      skipped: r.skipped.length,
      ...(r.clicks ? { clicks: r.clicks } : {}),
    };
    if (f.out !== undefined) {
      const where = { subset: r.subset, checkpoint: r.checkpointPath, checkpointSha256: r.checkpointSha256 };
      const more = {
        dataRoot: resolve(f['data-root']),
        prompt: f.prompt,
        backend: r.backend,
        skippedInputs: r.skipped,
      };
      writeFileAtomic(f.out, `${JSON.stringify({ ...metrics, loss: m.loss, ...where, ...more }, null, 2)}\n`);
    }
    if (f.json) io.out(JSON.stringify(metrics));
    else {
      const what = `${m.images} images, ${m.instances} instances${crowdNote(m.crowd ?? 0, m.crowdIgnored ?? 0)}`;
      io.out(`${basename(r.checkpointPath)} on ${r.subset} (${what}, ${f.prompt} prompts):`);
      io.out(`  F1   ${m.f1.toFixed(4)}\n  IoU  ${m.iou.toFixed(4)}\n  Dice ${m.dice.toFixed(4)}`);
      io.out(`  mask AP ${pct(m.ap)}  AP50 ${pct(m.ap50)}  AP75 ${pct(m.ap75)}`);
      const c = r.clicks;
      if (c)
        io.out(
          `  clicks (max ${c.maxClicks}): NoC@85 ${c.noc85.toFixed(2)}  NoC@90 ${c.noc90.toFixed(2)}  IoU@1 ${c.iouAt1.toFixed(4)}  IoU@3 ${c.iouAt3.toFixed(4)}  IoU@5 ${c.iouAt5.toFixed(4)}`,
        );
      if (r.skipped.length > 0) io.out(`  skipped ${r.skipped.length} input(s) (listed on stderr)`);
    }
    if (f.out !== undefined) io.err(`metrics written to ${f.out}`);
    return 0;
  },
});

/** `eval` with a checkpoint, or `eval --predictions` (a results file, no model). */
export const evalCommand: CliCommand = {
  path: scoring.path,
  summary: scoring.summary,
  get usage() {
    return `${scoring.usage}\n\n${evalPredictionsCommand.usage}`;
  },
  check: (argv) => (hasPredictionsFlag(argv) ? evalPredictionsCommand : scoring).check?.(argv),
  run: (argv, io) => (hasPredictionsFlag(argv) ? evalPredictionsCommand : scoring).run(argv, io),
};
