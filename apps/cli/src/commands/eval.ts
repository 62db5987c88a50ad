/**
 * `samtune eval`: F1/IoU/Dice of a checkpoint (official: zero-shot, or a run's best.safetensors) on a
 * dataset subset; prints them and writes them as JSON.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateCheckpoint } from '@samtune/evaluation';
import type { PromptModeOption } from '@samtune/trainer';
import { UsageError, type CliCommand } from '../command.js';
import { trainEventRenderer } from './train.js';

const USAGE = `usage: samtune eval --checkpoint <name|path> --data-root <dir> [flags]

Pixel-level F1, IoU and Dice (micro-averaged over all instance masks, original image size,
threshold 0.5) with one box prompt per instance (or one point with --prompt point).

  --checkpoint <name|path>   official checkpoint (zero-shot) or a run's best.safetensors
  --data-root <dir>          dataset root
  --format <name>            dataset format (default auto)
  --subset <name>            val (default: val/valid/validation), test, train or any subset name
  --prompt box|point         prompt kind (default box)
  --max-instances <n>        instances per image, 0 = all (default)
  --out <file.json>          where to write the metrics (default: next to a local checkpoint,
                             eval-<subset>.json; else runs/eval/<name>-<subset>.json)
  --cache-dir <dir>          embedding cache
  --backend <name>           tfjs backend
  --json                     print only {"f1","iou","dice","images","instances"} on stdout`;

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
}

/** Parses `eval` flags. */
export function parseEvalArgs(argv: string[]): EvalArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        checkpoint: { type: 'string' },
        'data-root': { type: 'string' },
        format: { type: 'string' },
        subset: { type: 'string' },
        prompt: { type: 'string' },
        'max-instances': { type: 'string' },
        out: { type: 'string' },
        'cache-dir': { type: 'string' },
        backend: { type: 'string' },
        json: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!values.checkpoint) throw new UsageError('--checkpoint is required');
  if (!values['data-root']) throw new UsageError('--data-root is required');
  const prompt = values.prompt ?? 'box';
  if (prompt !== 'box' && prompt !== 'point') throw new UsageError(`--prompt must be box or point, got '${prompt}'`);
  const maxInstances = Number(values['max-instances'] ?? 0);
  if (!Number.isInteger(maxInstances) || maxInstances < 0)
    throw new UsageError(`--max-instances must be an integer >= 0, got '${values['max-instances']}'`);
  return {
    checkpoint: values.checkpoint,
    dataRoot: values['data-root'],
    format: values.format ?? 'auto',
    subset: values.subset ?? 'val',
    prompt,
    maxInstances,
    out: values.out,
    cacheDir: values['cache-dir'],
    backend: values.backend,
    json: values.json ?? false,
  };
}

/** Default metrics file (see USAGE). */
export function defaultEvalOut(checkpoint: string, subset: string): string {
  if (existsSync(checkpoint))
    return join(dirname(resolve(checkpoint)), `eval-${basename(checkpoint, extname(checkpoint))}-${subset}.json`);
  return resolve('runs', 'eval', `${checkpoint}-${subset}.json`);
}

export const evalCommand: CliCommand = {
  path: ['eval'],
  summary: 'F1 / IoU / Dice of a checkpoint on a dataset subset (zero-shot or fine-tuned)',
  usage: USAGE,
  async run(argv, io) {
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
      onEvent: render,
    });
    const m = r.metrics;
    const metrics = { f1: m.f1, iou: m.iou, dice: m.dice, images: m.images, instances: m.instances };
    const out = a.out ?? defaultEvalOut(a.checkpoint, r.subset);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(
      out,
      `${JSON.stringify({ ...metrics, loss: m.loss, subset: r.subset, checkpoint: r.checkpointPath, checkpointSha256: r.checkpointSha256, dataRoot: resolve(a.dataRoot), prompt: a.prompt, backend: r.backend }, null, 2)}\n`,
    );
    if (a.json) {
      io.out(JSON.stringify(metrics));
    } else {
      io.out(
        `${basename(r.checkpointPath)} on ${r.subset} (${m.images} images, ${m.instances} instances, ${a.prompt} prompts):`,
      );
      io.out(`  F1   ${m.f1.toFixed(4)}\n  IoU  ${m.iou.toFixed(4)}\n  Dice ${m.dice.toFixed(4)}`);
    }
    io.err(`metrics written to ${out}`);
    return 0;
  },
};
