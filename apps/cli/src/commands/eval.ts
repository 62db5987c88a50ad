/**
 * `samtune eval`: F1/IoU/Dice and COCO mask AP of a checkpoint (official: zero-shot, or a run's
 * best.safetensors) on a dataset subset (`evaluateCheckpoint`); prints them, `--out` writes them as JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { evaluateCheckpoint } from '@samtune/evaluation';
import type { PromptModeOption } from '@samtune/trainer';
import { parseFlags } from '../args.js';
import { UsageError, type CliCommand } from '../command.js';
import { pct, trainEventRenderer } from '../render.js';
import { PREDICTIONS_USAGE, runEvalPredictions } from './eval-predictions.js';

const USAGE = `usage: samtune eval --checkpoint <name|path> --data-root <dir> [flags]

Pixel-level F1, IoU and Dice (micro-averaged over all instance masks, original image size,
threshold 0.5) and COCO mask AP (AP@[.5:.95], AP50, AP75; each mask scored by its predicted IoU)
with one box prompt per instance (or one point with --prompt point).

  --checkpoint <name|path>   official checkpoint (zero-shot) or a run's best.safetensors
  --data-root <dir|file>     dataset folder, or a COCO instances .json file
  --images <dir>             image folder of a COCO .json --data-root (default: its folder)
  --val-fraction <x>         a one-subset dataset is split by --seed like train does (default 0.2)
  --seed <n>                 seed of that split and of point prompts (default 0)
  --format <name>            dataset format (default auto)
  --subset <name>            val (default: val/valid/validation), test, train or any subset name
  --prompt box|point         prompt kind (default box)
  --max-instances <n>        instances per image, 0 = all (default)
  --out <file.json>          also write the metrics (and the skipped inputs) there; nothing is
                             written without it
  --strict                   stop at the first bad image or annotation (default: report, skip, count)
  --cache-dir <dir>          embedding cache
  --backend <name>           tfjs backend
  --json                     print only {"f1","iou","dice","ap","ap50","ap75","images","instances","skipped"}
                             on stdout

${PREDICTIONS_USAGE}`;

/** Parsed `eval` flags. */
export interface EvalArgs {
  readonly checkpoint: string;
  readonly dataRoot: string;
  readonly format: string;
  readonly subset: string;
  readonly prompt: PromptModeOption;
  readonly maxInstances: number;
  readonly out: string | undefined;
  readonly cacheDir: string | undefined;
  readonly backend: string | undefined;
  readonly json: boolean;
  readonly strict: boolean;
  readonly images: string | undefined;
  readonly valFraction: number | undefined;
  readonly seed: number;
}

/** Parses `eval` flags. */
export function parseEvalArgs(argv: string[]): EvalArgs {
  const values = parseFlags(argv, {
    checkpoint: { type: 'string' },
    images: { type: 'string' },
    'val-fraction': { type: 'string' },
    seed: { type: 'string' },
    'data-root': { type: 'string' },
    format: { type: 'string' },
    subset: { type: 'string' },
    prompt: { type: 'string' },
    'max-instances': { type: 'string' },
    out: { type: 'string' },
    'cache-dir': { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean' },
    strict: { type: 'boolean' },
  });
  if (!values.checkpoint) throw new UsageError('--checkpoint is required');
  if (!values['data-root']) throw new UsageError('--data-root is required');
  const prompt = values.prompt ?? 'box';
  if (prompt !== 'box' && prompt !== 'point') throw new UsageError(`--prompt must be box or point, got '${prompt}'`);
  const maxInstances = Number(values['max-instances'] ?? 0);
  if (!Number.isInteger(maxInstances) || maxInstances < 0)
    throw new UsageError(`--max-instances must be an integer >= 0, got '${values['max-instances']}'`);
  const valFraction = values['val-fraction'] === undefined ? undefined : Number(values['val-fraction']);
  if (valFraction !== undefined && !(valFraction >= 0 && valFraction < 1))
    throw new UsageError(`--val-fraction must be a number in [0, 1), got '${values['val-fraction']}'`);
  const seed = Number(values.seed ?? 0);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${values.seed}'`);
  return {
    checkpoint: values.checkpoint,
    images: values.images,
    valFraction,
    seed,
    dataRoot: values['data-root'],
    format: values.format ?? 'auto',
    subset: values.subset ?? 'val',
    prompt,
    maxInstances,
    out: values.out,
    cacheDir: values['cache-dir'],
    backend: values.backend,
    json: values.json ?? false,
    strict: values.strict ?? false,
  };
}

export const evalCommand: CliCommand = {
  path: ['eval'],
  summary:
    'F1 / IoU / Dice of a checkpoint on a dataset subset (zero-shot or fine-tuned), or a COCO results file scored',
  usage: USAGE,
  async run(argv, io) {
    if (argv.some((x) => x === '--predictions' || x.startsWith('--predictions='))) return runEvalPredictions(argv, io);
    const a = parseEvalArgs(argv);
    const render = trainEventRenderer(io);
    const r = await evaluateCheckpoint({
      checkpoint: a.checkpoint,
      dataRoot: a.dataRoot,
      format: a.format,
      subset: a.subset,
      prompt: a.prompt,
      maxInstances: a.maxInstances,
      ...(a.cacheDir ? { cacheDir: a.cacheDir } : {}),
      ...(a.backend ? { backend: a.backend } : {}),
      strict: a.strict,
      seed: a.seed,
      ...(a.images ? { images: a.images } : {}),
      ...(a.valFraction !== undefined ? { valFraction: a.valFraction } : {}),
      onEvent: render,
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
    if (a.out !== undefined) {
      mkdirSync(dirname(a.out), { recursive: true });
      writeFileSync(
        a.out,
        `${JSON.stringify({ ...metrics, loss: m.loss, subset: r.subset, checkpoint: r.checkpointPath, checkpointSha256: r.checkpointSha256, dataRoot: resolve(a.dataRoot), prompt: a.prompt, backend: r.backend, skippedInputs: r.skipped }, null, 2)}\n`,
      );
    }
    if (a.json) {
      io.out(JSON.stringify(metrics));
    } else {
      io.out(
        `${basename(r.checkpointPath)} on ${r.subset} (${m.images} images, ${m.instances} instances, ${a.prompt} prompts):`,
      );
      io.out(`  F1   ${m.f1.toFixed(4)}\n  IoU  ${m.iou.toFixed(4)}\n  Dice ${m.dice.toFixed(4)}`);
      io.out(`  mask AP ${pct(m.ap)}  AP50 ${pct(m.ap50)}  AP75 ${pct(m.ap75)}`);
      if (r.skipped.length > 0) io.out(`  skipped ${r.skipped.length} input(s) (listed on stderr)`);
    }
    if (a.out !== undefined) io.err(`metrics written to ${a.out}`);
    return 0;
  },
};
