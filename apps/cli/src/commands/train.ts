/**
 * `samtune train`: fine-tunes the mask decoder (packages/trainer) in a worker thread and renders its
 * events as progress bars on stderr; the final before/after table goes to stdout.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import {
  applyOverride,
  defaultTrainConfig,
  mergeConfig,
  runTraining,
  runTrainingInWorker,
  TrainConfigError,
  validateTrainConfig,
} from '@samtune/trainer';
import type { EvalResult, TrainConfig, TrainEvent, TrainResult } from '@samtune/trainer';
import { UsageError, type CliCommand, type CliIO } from '../command.js';
import { createProgressBar, type ProgressBar } from '../progress.js';

const USAGE = `usage: samtune train --checkpoint <name|path> --data-root <dir> --out runs/<name> [flags]

Fine-tunes SAM's mask decoder (image and prompt encoders frozen) with an embedding cache, Adam,
early stopping on validation F1, best/last checkpoints and a report (report.md, curves.svg).

  --checkpoint <name|path>   tiny_vit | vit_b | vit_l | vit_h, or a .pth/.pt/.safetensors file
  --data-root <dir>          dataset root (COCO, VOC, CSS, Datumaro; detected)
  --out <dir>                run directory (best.safetensors, last.safetensors, state, train.jsonl)
  --format <name>            dataset format (default auto)
  --config <file.yaml>       config file (same keys as the dotted overrides)
  --lr <x>                   optimizer.lr (default 1e-5)
  --batch-size <n>           data.train.batch-size: images per step (default 2)
  --epochs <n>               training.epochs (default 100)
  --prompt box|point|both    prompt.mode (default box; both = box priority)
  --max-instances <n>        data.train.max-instances per image (default 0 = all)
  --micro-batch <n>          training.micro-batch: prompts per forward/backward (default 4)
  --seed <n>                 training.seed (default 0)
  --cache-dir <dir>          runtime.cache-dir: embedding cache
  --backend <name>           runtime.backend: wasm | cpu | tensorflow | tensorflow-gpu
  --no-ort-kernels           runtime.ort-kernels=false: stock tfjs-wasm kernels
  --no-worker                train on the main thread
  --strict                   data.strict: stop at the first bad image or annotation (default: report, skip)
  --resume                   continue the run in --out after its last finished epoch
  --<section>.<key> <value>  any config key, e.g. --optimizer.lr 1e-4 --data.train.batch-size 4
                             --early-stopping.patience 5 --prompt.jitter-fraction 0.1`;

/** Shorthand flags → dotted config keys. */
const SHORT: Readonly<Record<string, string>> = {
  checkpoint: 'checkpoint',
  'data-root': 'data.root',
  out: 'out',
  format: 'data.format',
  lr: 'optimizer.lr',
  'batch-size': 'data.train.batch-size',
  epochs: 'training.epochs',
  prompt: 'prompt.mode',
  'max-instances': 'data.train.max-instances',
  'micro-batch': 'training.micro-batch',
  seed: 'training.seed',
  'cache-dir': 'runtime.cache-dir',
  backend: 'runtime.backend',
};

/** Parsed `train` arguments. */
export interface TrainArgs {
  readonly config: TrainConfig;
  readonly resume: boolean;
  readonly worker: boolean;
}

/** Parses `train` flags: defaults ← `--config` YAML ← flags (shorthands and dotted keys). */
export function parseTrainArgs(argv: readonly string[]): TrainArgs {
  const pairs: [string, string][] = [];
  let configFile: string | undefined;
  let resume = false;
  let worker = true;
  const flags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (name === 'resume') resume = true;
    else if (name === 'no-worker') worker = false;
    else if (name === 'no-ort-kernels') flags.push('runtime.ort-kernels=false');
    else if (name === 'strict') flags.push('data.strict=true');
    else {
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      if (name === 'config') configFile = value;
      else pairs.push([SHORT[name] ?? name, value]);
    }
  }
  const config = defaultTrainConfig();
  try {
    if (configFile !== undefined) {
      let text: string;
      try {
        text = readFileSync(configFile, 'utf8');
      } catch (e) {
        throw new UsageError(`--config ${configFile}: cannot read the file (${(e as Error).message})`);
      }
      mergeConfig(config, parseYaml(text));
    }
    for (const f of flags) applyOverride(config, f.split('=')[0] as string, f.split('=')[1]);
    for (const [key, value] of pairs) {
      if (!key.includes('.') && !['checkpoint', 'out'].includes(key)) throw new UsageError(`unknown flag --${key}`);
      applyOverride(config, key, value);
    }
    if (!resume || config.out === '') validateTrainConfig(config);
  } catch (e) {
    if (e instanceof TrainConfigError) throw new UsageError(e.message);
    throw e;
  }
  if (config.out === '') throw new UsageError('--out is required');
  return { config, resume, worker };
}

const pct = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(4));

/** The before/after table (stdout). */
export function resultTable(zeroShot: EvalResult | null, after: EvalResult | null, afterLabel: string): string {
  return [
    '| weights | F1 | IoU | Dice | instances |',
    '| --- | --- | --- | --- | --- |',
    `| before (zero-shot) | ${pct(zeroShot?.f1)} | ${pct(zeroShot?.iou)} | ${pct(zeroShot?.dice)} | ${zeroShot?.instances ?? '–'} |`,
    `| ${afterLabel} | ${pct(after?.f1)} | ${pct(after?.iou)} | ${pct(after?.dice)} | ${after?.instances ?? '–'} |`,
  ].join('\n');
}

/** Renders training events as progress bars and summary lines on stderr. */
export function trainEventRenderer(io: CliIO): (e: TrainEvent) => void {
  let bar: ProgressBar | undefined;
  let barKey = '';
  const open = (key: string, label: string): ProgressBar => {
    if (barKey !== key || !bar) {
      bar?.done();
      bar = createProgressBar(label);
      barKey = key;
    }
    return bar;
  };
  const close = (summary?: string): void => {
    bar?.done();
    if (summary) io.err(summary);
    bar = undefined;
    barKey = '';
  };
  return (e) => {
    switch (e.type) {
      case 'info':
        io.err(e.message);
        break;
      case 'backend':
        io.err(`backend: ${e.detail}`);
        break;
      case 'dataset':
        io.err(
          `dataset: ${e.format}, ${e.trainSubset} ${e.train} images → ${e.valSubset} ${e.val} images${e.skipped ? ` (${e.skipped} problems skipped)` : ''}`,
        );
        for (const p of e.problems) io.err(`skipped: ${p}`);
        break;
      case 'resume':
        io.err(`resuming after epoch ${e.epochsDone}`);
        break;
      case 'embed-progress':
        open('embed', 'embeddings').update(e.done, e.total, `(${e.hits} cached)`);
        break;
      case 'embed-done':
        close(`embeddings: ${e.total} images, ${e.computed} computed, ${e.hits} cached, ${e.seconds.toFixed(1)}s`);
        break;
      case 'targets-progress':
        open('targets', 'masks').update(e.done, e.total);
        if (e.done === e.total) close();
        break;
      case 'eval-progress':
        open(
          `eval${e.epoch}`,
          e.phase === 'zero-shot' ? 'zero-shot eval' : e.epoch > 0 ? `validate ${e.epoch}` : 'evaluate',
        ).update(e.done, e.total);
        break;
      case 'eval-done':
        close(
          `${e.phase === 'zero-shot' ? 'zero-shot' : e.epoch > 0 ? `epoch ${e.epoch} val` : 'eval'}: F1 ${pct(e.metrics.f1)} IoU ${pct(e.metrics.iou)} loss ${pct(e.metrics.loss)} (${e.metrics.instances} instances, ${e.seconds.toFixed(1)}s)`,
        );
        break;
      case 'epoch-start':
        open(`epoch${e.epoch}`, `epoch ${e.epoch}/${e.epochs}`).update(0, e.steps);
        break;
      case 'step':
        open(`epoch${e.epoch}`, `epoch ${e.epoch}`).update(e.step, e.steps, `loss ${e.loss.toFixed(4)}`);
        break;
      case 'epoch-end':
        close();
        io.err(
          `epoch ${e.record.epoch}: train loss ${pct(e.record.trainLoss)}, val F1 ${pct(e.record.val.f1)}${e.record.best ? ' (best)' : ''}, ${e.record.trainSeconds.toFixed(1)}s + ${e.record.valSeconds.toFixed(1)}s${e.reason ? `; ${e.reason}` : ''}`,
        );
        break;
      case 'done':
        close();
        break;
    }
  };
}

/** Runs training with the CLI's rendering; returns the result. */
export async function trainWithProgress(args: TrainArgs, io: CliIO): Promise<TrainResult> {
  const onEvent = trainEventRenderer(io);
  return args.worker
    ? runTrainingInWorker(args.config, { resume: args.resume, onEvent })
    : runTraining(args.config, { resume: args.resume, onEvent });
}

export const trainCommand: CliCommand = {
  path: ['train'],
  summary: 'fine-tune the mask decoder on a dataset (early stopping, checkpoints, report)',
  usage: USAGE,
  async run(argv, io) {
    const args = parseTrainArgs(argv);
    const r = await trainWithProgress(args, io);
    io.out(resultTable(r.zeroShot, r.best, `after (best, epoch ${r.bestEpoch ?? '–'})`));
    io.out(`\n${r.epochs} epochs (${r.stopReason}). best: ${r.files.best}\nreport: ${r.files.report}`);
    return 0;
  },
};
