/**
 * `samtune train`: parses the flags into a config, runs the trainer (in a worker thread, see
 * `training.ts`) and prints the before/after table, or `--json` the result.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import {
  applyOverride,
  defaultTrainConfig,
  exitCodeForSignal,
  mergeConfig,
  TrainConfigError,
  TrainingInterruptedError,
  validateTrainConfig,
  type TrainResult,
} from '@samtune/trainer';
import { parseFlagsWithDotted } from '../args.js';
import { UsageError, type CliCommand } from '../command.js';
import { resultTable } from '../render.js';
import { trainResultJson, trainWithProgress, type TrainArgs } from '../training.js';

const USAGE = `usage: samtune train --checkpoint <name|path> --data-root <dir> --out runs/<name> [flags]

Fine-tunes SAM's mask decoder (image and prompt encoders frozen) with an embedding cache, Adam,
early stopping on validation F1, best/last checkpoints and a report (report.md, curves.svg).

  --checkpoint <name|path>   tiny_vit | vit_b | vit_l | vit_h, or a .pth/.pt/.safetensors file
  --data-root <dir|file>     dataset folder (COCO, VOC, CSS, Datumaro, a plugin's format; detected)
                             or a COCO instances .json file (e.g. autolabel's output)
  --images <dir>             data.images: image folder of a COCO .json --data-root (default: its folder)
  --val-fraction <x>         data.val-fraction: a one-subset dataset is split by seed into train/val
                             with this share in val (default 0.2; 0 = no split)
  --out <dir>                run directory (best/last.safetensors: the trained decoder + the base
                             checkpoint's path and SHA-256; state, config.yaml, results.csv, train.jsonl)
  --format <name>            dataset format (default auto)
  --crowd keep|ignore        data.crowd: crowd instances (iscrowd 1; CVAT writes every mask-tool object
                             so) train and validate like the others (keep, default) or are left out
                             (ignore, COCO's crowd regions); counted in the dataset line either way
  --config <file.yaml>       config file (same keys as the dotted overrides)
  --lr <x>                   optimizer.lr (default 1e-5)
  --batch-size <n>           data.train.batch-size: images per step (default 2)
  --epochs <n>               training.epochs (default 100)
  --prompt box|point|both    prompt.mode (default box; both = box priority)
  --max-instances <n>        data.train.max-instances per image (default 0 = all)
  --micro-batch <n>          training.micro-batch: prompts per forward/backward (default 4)
  --seed <n>                 training.seed (default 0)
  --cache-dir <dir>          runtime.cache-dir: embedding cache
  --engine ort|tfjs          runtime.engine: training engine (default ort: onnxruntime-node graphs; tfjs: reference)
  --backend <name>           runtime.backend: wasm | cpu | tensorflow | tensorflow-gpu
  --no-ort-kernels           runtime.ort-kernels=false: stock tfjs-wasm kernels
  --no-worker                train on the main thread
  --strict                   data.strict: stop at the first bad image or annotation (default: report, skip)
  --resume                   continue the run in --out after its last finished epoch (with the stored
                             config, but this command's --plugin list: a run folder never names code)
  --exist-ok                 write into a non-empty --out that is not a samtune run folder (no
                             .samtune-run marker); without it such a folder is refused, untouched
  --json                     print the result as one JSON object on stdout (metrics, files)
  --<section>.<key> <value>  any config key, e.g. --optimizer.lr 1e-4 --data.train.batch-size 4
                             --early-stopping.patience 5 --prompt.jitter-fraction 0.1
  --loss.resolution lowres|original
                             loss on the 256x256 logits (default lowres, SAM) or on the logits resized
                             to the original image size (OTX; slower, more memory); --engine tfjs only
  --prompt.iterations <n>    simulated clicks (SAM, micro-sam): n more decoder passes, each with a
                             seeded click in the error region and the last logits as mask input; the
                             loss is the mean over the passes (default 0 = off); --engine tfjs only
Global: --plugin <module> (dataset adapters, also loaded in the worker), --verbose.`;

/** Shorthand flags → dotted config keys. */
const SHORT: Readonly<Record<string, string>> = {
  checkpoint: 'checkpoint',
  'data-root': 'data.root',
  images: 'data.images',
  'val-fraction': 'data.val-fraction',
  out: 'out',
  format: 'data.format',
  crowd: 'data.crowd',
  lr: 'optimizer.lr',
  'batch-size': 'data.train.batch-size',
  epochs: 'training.epochs',
  prompt: 'prompt.mode',
  'max-instances': 'data.train.max-instances',
  'micro-batch': 'training.micro-batch',
  seed: 'training.seed',
  'cache-dir': 'runtime.cache-dir',
  backend: 'runtime.backend',
  engine: 'runtime.engine',
};

const OPTIONS = {
  ...Object.fromEntries(Object.keys(SHORT).map((k) => [k, { type: 'string' as const }])),
  config: { type: 'string' },
  resume: { type: 'boolean' },
  'exist-ok': { type: 'boolean' },
  'no-worker': { type: 'boolean' },
  'no-ort-kernels': { type: 'boolean' },
  strict: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** Parsed `train` arguments. */
export interface ParsedTrainArgs extends TrainArgs {
  readonly json: boolean;
}

/**
 * A `--config` file's data, refused when it names plugins: a config file (e.g. a copied run
 * folder's `config.yaml`) never names code to run; plugins come from `--plugin` only.
 */
function configFileData(file: string, data: unknown): unknown {
  const plugins = (data as { data?: { plugins?: unknown } } | null)?.data?.plugins;
  if (plugins !== undefined && !(Array.isArray(plugins) && plugins.length === 0))
    throw new UsageError(
      `--config ${file}: expected no data.plugins in a config file (a file never names code to run), got ${JSON.stringify(plugins)}; pass each module with --plugin <module> instead`,
    );
  return data;
}

/** Parses `train` flags: defaults ← `--config` YAML ← flags (shorthands, then dotted keys, in order). */
export function parseTrainArgs(argv: readonly string[]): ParsedTrainArgs {
  const { values, dotted } = parseFlagsWithDotted(argv, OPTIONS);
  const v = values as Record<string, string | boolean | undefined>;
  const config = defaultTrainConfig();
  try {
    if (typeof v.config === 'string') {
      let text: string;
      try {
        text = readFileSync(v.config, 'utf8');
      } catch (e) {
        throw new UsageError(`--config ${v.config}: cannot read the file (${(e as Error).message})`);
      }
      mergeConfig(config, configFileData(v.config, parseYaml(text)));
    }
    if (v['no-ort-kernels']) applyOverride(config, 'runtime.ort-kernels', false);
    if (v.strict) applyOverride(config, 'data.strict', true);
    for (const [flag, key] of Object.entries(SHORT)) {
      const value = v[flag];
      if (typeof value === 'string') applyOverride(config, key, value);
    }
    for (const [key, value] of dotted) applyOverride(config, key, value);
    if (!v.resume || config.out === '') validateTrainConfig(config);
  } catch (e) {
    if (e instanceof TrainConfigError) throw new UsageError(e.message);
    throw e;
  }
  if (config.out === '') throw new UsageError('--out is required');
  return {
    config,
    resume: Boolean(v.resume),
    existOk: Boolean(v['exist-ok']),
    worker: !v['no-worker'],
    json: Boolean(v.json),
  };
}

export const trainCommand: CliCommand = {
  path: ['train'],
  summary: 'fine-tune the mask decoder on a dataset (early stopping, checkpoints, report)',
  usage: USAGE,
  async run(argv, io) {
    const args = parseTrainArgs(argv);
    let r: TrainResult;
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
};
