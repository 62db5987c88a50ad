/**
 * `samtune eval`: F1/IoU/Dice and COCO mask AP of a checkpoint (official: zero-shot, or a run's
 * best.safetensors) on a dataset subset (`evaluateCheckpoint`); prints them, `--out` writes them as JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { Type } from 'typebox';
import * as common from '../common-flags.js';
import { defineCommand, Flag, parseFlagTable } from '../flags.js';

const FLAGS = Type.Object({
  checkpoint: common.checkpoint,
  'data-root': common.dataRoot,
  images: common.images,
  'val-fraction': Type.Optional(
    Flag.num('a one-subset dataset is split by --seed like train does (default 0.2)', 'a number in [0, 1)', {
      minimum: 0,
      exclusiveMaximum: 1,
    }),
  ),
  seed: common.seed('seed of that split and of point prompts'),
  format: common.format,
  subset: Flag.text('subset name; val means the first of val, valid, validation', {
    placeholder: '<name>',
    default: 'val',
  }),
  prompt: Flag.oneOf(['box', 'point'], 'prompt kind', { default: 'box' }),
  'max-instances': Flag.int('instances per image, 0 = all', 0, { default: 0 }),
  out: Type.Optional(
    Flag.text('also write the metrics (and the skipped inputs) there; nothing is written without it', {
      placeholder: '<file.json>',
    }),
  ),
  strict: common.strict,
  'cache-dir': common.cacheDir,
  backend: common.backend,
  json: common.json('print only {"f1","iou","dice","ap","ap50","ap75","images","instances","skipped"} on stdout'),
});

/** Parses `eval` flags. */
export const parseEvalArgs = (argv: readonly string[]) => parseFlagTable(argv, FLAGS).flags;

export const evalCommand = defineCommand({
  path: ['eval'],
  summary: 'F1 / IoU / Dice of a checkpoint on a dataset subset (zero-shot or fine-tuned)',
  synopsis: `usage: samtune eval --checkpoint <name|path> --data-root <dir> [flags]

Pixel-level F1, IoU and Dice (micro-averaged over all instance masks, original image size,
threshold 0.5) and COCO mask AP (AP@[.5:.95], AP50, AP75; each mask scored by its predicted IoU)
with one box prompt per instance (or one point with --prompt point).`,
  flags: FLAGS,
  async run(f, io) {
    const { evaluateCheckpoint } = await import('@samtune/evaluation');
    const { pct, trainEventRenderer } = await import('../render.js');
    const r = await evaluateCheckpoint({
      checkpoint: f.checkpoint,
      dataRoot: f['data-root'],
      format: f.format,
      subset: f.subset,
      prompt: f.prompt,
      maxInstances: f['max-instances'],
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
      f1: m.f1,
      iou: m.iou,
      dice: m.dice,
      ap: m.ap,
      ap50: m.ap50,
      ap75: m.ap75,
      images: m.images,
      instances: m.instances,
      skipped: r.skipped.length,
    };
    if (f.out !== undefined) {
      mkdirSync(dirname(f.out), { recursive: true });
      writeFileSync(
        f.out,
        `${JSON.stringify({ ...metrics, loss: m.loss, subset: r.subset, checkpoint: r.checkpointPath, checkpointSha256: r.checkpointSha256, dataRoot: resolve(f['data-root']), prompt: f.prompt, backend: r.backend, skippedInputs: r.skipped }, null, 2)}\n`,
      );
    }
    if (f.json) {
      io.out(JSON.stringify(metrics));
    } else {
      io.out(
        `${basename(r.checkpointPath)} on ${r.subset} (${m.images} images, ${m.instances} instances, ${f.prompt} prompts):`,
      );
      io.out(`  F1   ${m.f1.toFixed(4)}\n  IoU  ${m.iou.toFixed(4)}\n  Dice ${m.dice.toFixed(4)}`);
      io.out(`  mask AP ${pct(m.ap)}  AP50 ${pct(m.ap50)}  AP75 ${pct(m.ap75)}`);
      if (r.skipped.length > 0) io.out(`  skipped ${r.skipped.length} input(s) (listed on stderr)`);
    }
    if (f.out !== undefined) io.err(`metrics written to ${f.out}`);
    return 0;
  },
});
