/**
 * The training configuration, written once (TypeBox): every key's schema carries its type and range,
 * `description` (what it does: `samtune train --help` prints it), `default`, `expected` (the words of a
 * validation message: `config 'training.microBatch': expected an integer >= 1, got 0`) and, for the
 * common keys, a short CLI `flag` (`--lr` for `optimizer.lr`). `TrainConfig` is the schema's static
 * type; `config.ts` derives the defaults, the dotted overrides and the help from it. Adding a key here
 * adds it everywhere (`config.test.ts` proves it).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Type, type Static, type TLiteral, type TSchema } from 'typebox';

// This module imports no model code (it is behind `@samtune/trainer/config`, which the CLI reads for
// `--help` and flag parsing before anything loads), so three defaults of @samtune/evaluation are
// written here as values; `config.test.ts` checks that they equal evaluation's.
/** `DEFAULT_VAL_FRACTION` of @samtune/evaluation. */
const VAL_FRACTION = 0.2;
/** `DEFAULT_MICRO_BATCH` of @samtune/evaluation. */
const MICRO_BATCH = 4;
/** `defaultEmbeddingCacheDir()` of @samtune/evaluation: `<$SAMTUNE_CACHE or ~/.cache/samtune>/embeddings`. */
const embeddingCacheDir = () => join(process.env.SAMTUNE_CACHE || join(homedir(), '.cache', 'samtune'), 'embeddings');

/** The annotations of one config key (TypeBox keeps unknown schema options as they are). */
export interface KeyOptions {
  /** What the key does, for `--help`. */
  readonly description: string;
  /** The value when nothing sets it; a function is called each time defaults are made (a folder read from the environment). */
  readonly default: unknown;
  /** A short CLI flag for the key: `lr` for `optimizer.lr`; `no-<x>` sets a boolean key to false. */
  readonly flag?: string;
  /** The value in `--help` (`<dir>`); default from the type (`<n>`, `<x>`, `a|b`). */
  readonly placeholder?: string;
}

const text = (expected: string, o: KeyOptions) => Type.String({ minLength: 1, expected, ...o });
const str = (o: KeyOptions) => Type.String({ expected: 'a string', ...o });
const int = (minimum: number, o: KeyOptions, expected = `an integer >= ${minimum}`) =>
  Type.Integer({ minimum, expected, ...o });
const nonNeg = (o: KeyOptions) => Type.Number({ minimum: 0, expected: 'a number >= 0', ...o });
const bool = (o: KeyOptions) => Type.Boolean({ expected: 'true or false', ...o });
function oneOf<const V extends string>(values: readonly V[], o: KeyOptions) {
  const expected = `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
  const literals = values.map((v) => Type.Literal(v)) as unknown as [TLiteral<V>];
  return Type.Union(literals, { expected, placeholder: values.join('|'), ...o });
}
const unit = Type.Number({ minimum: 0, exclusiveMaximum: 1 });

export const TrainConfigSchema = Type.Object({
  checkpoint: text('a checkpoint name or path', {
    description: 'tiny_vit | vit_b | vit_l | vit_h, or a .pth/.pt/.safetensors file',
    default: '',
    flag: 'checkpoint',
    placeholder: '<name|path>',
  }),
  data: Type.Object({
    root: text('a dataset directory', {
      description: 'dataset folder (COCO, VOC, CSS, Datumaro, a plugin format; detected) or a COCO instances .json',
      default: '',
      flag: 'data-root',
      placeholder: '<dir|file>',
    }),
    images: str({
      description: "image folder of a COCO .json data.root (default: the file's folder)",
      default: '',
      flag: 'images',
      placeholder: '<dir>',
    }),
    valFraction: Type.Number({
      minimum: 0,
      exclusiveMaximum: 1,
      expected: 'a number in [0, 1)',
      description:
        'a one-subset dataset is split by training.seed into train/val with this share in val (0 = no split)',
      default: VAL_FRACTION,
      flag: 'val-fraction',
    }),
    plugins: Type.Array(Type.String(), {
      expected: 'a list of module paths',
      description: 'dataset plugin modules loaded before the dataset is read, also in the worker (comma-separated)',
      default: [],
      placeholder: '<a,b>',
    }),
    format: text('a dataset format name or auto', {
      description: 'auto or an adapter name (coco, voc, css, datumaro, a plugin)',
      default: 'auto',
      flag: 'format',
      placeholder: '<name>',
    }),
    strict: bool({
      description: 'stop at the first bad image or annotation (default: report and skip it)',
      default: false,
      flag: 'strict',
    }),
    crowd: oneOf(['keep', 'ignore'], {
      description:
        "crowd instances (iscrowd 1; CVAT's mask-tool objects): keep trains and validates on them like the others, ignore leaves them out (COCO's meaning); counted either way",
      default: 'keep',
      flag: 'crowd',
    }),
    train: Type.Object({
      subset: text('a subset name', { description: 'training subset', default: 'train', placeholder: '<name>' }),
      batchSize: int(1, { description: 'images per optimizer step', default: 2, flag: 'batch-size' }),
      maxInstances: int(
        0,
        { description: 'instances per image per epoch (seeded choice), 0 = all', default: 0, flag: 'max-instances' },
        'an integer >= 0 (0 = all)',
      ),
    }),
    val: Type.Object({
      root: str({
        description:
          'a validation dataset of its own (a folder or COCO .json, read like data.root): validation runs on it instead of a subset or split of data.root, whose subsets all train (empty = none)',
        default: '',
        flag: 'val-data-root',
        placeholder: '<dir|file>',
      }),
      images: str({
        description: "image folder of a COCO .json data.val.root (default: the file's folder)",
        default: '',
        flag: 'val-images',
        placeholder: '<dir>',
      }),
      subset: text('a subset name or auto', {
        description:
          'validation subset (of data.val.root when set); auto = the first of val, valid, validation, test, or the only subset of data.val.root',
        default: 'auto',
        placeholder: '<name>',
      }),
      maxInstances: int(
        0,
        { description: 'instances per image (the first ones), 0 = all', default: 0 },
        'an integer >= 0 (0 = all)',
      ),
      clicks: int(
        0,
        {
          description:
            'also measure clicks-to-quality (NoC@85/90, IoU@1/3/5) in each validation, with at most this many clicks (20 is the standard; 0 = off)',
          default: 0,
          flag: 'val-clicks',
        },
        'an integer >= 0 (0 = off)',
      ),
    }),
  }),
  prompt: Type.Object({
    mode: oneOf(['box', 'point', 'both'], {
      description: 'prompt of each instance (both = the box whenever there is one)',
      default: 'box',
      flag: 'prompt',
    }),
    points: int(1, { description: 'positive points per point prompt (1 = SAM single click, multimask)', default: 1 }),
    jitterFraction: nonNeg({
      description: 'box jitter: largest shift as a fraction of the box side (0 = off)',
      default: 0,
    }),
    jitterPixels: nonNeg({ description: 'box jitter cap in original pixels (0 = no cap)', default: 0 }),
    iterations: int(
      0,
      {
        description:
          'simulated clicks (SAM, micro-sam): n more decoder passes, each with a seeded click in the error region and the last logits as mask input; the loss is the mean over the passes (0 = off; both engines)',
        default: 0,
      },
      'an integer >= 0 (0 = off)',
    ),
  }),
  loss: Type.Object({
    resolution: oneOf(['lowres', 'original'], {
      description:
        'loss on the 256x256 logits (lowres, SAM) or on the logits resized to the original image size (original, OTX; slower, more memory; both engines)',
      default: 'lowres',
    }),
  }),
  optimizer: Type.Object({
    lr: Type.Number({
      exclusiveMinimum: 0,
      expected: 'a finite number > 0',
      description: 'Adam learning rate',
      default: 1e-5,
      flag: 'lr',
    }),
    betas: Type.Tuple([unit, unit], {
      expected: 'two numbers in [0, 1)',
      description: "Adam's beta1,beta2",
      default: [0.9, 0.999],
      placeholder: '<b1,b2>',
    }),
    eps: Type.Number({ exclusiveMinimum: 0, expected: 'a number > 0', description: "Adam's epsilon", default: 1e-8 }),
    weightDecay: nonNeg({ description: 'L2 weight decay (torch Adam)', default: 0 }),
  }),
  training: Type.Object({
    epochs: int(1, { description: 'maximum epochs', default: 100, flag: 'epochs' }),
    microBatch: int(1, {
      description: 'prompts per forward/backward (gradients accumulated over a batch)',
      default: MICRO_BATCH,
      flag: 'micro-batch',
    }),
    seed: Type.Integer({
      expected: 'an integer',
      description: 'seed of shuffling, instance caps, jitter, point sampling and the val split',
      default: 0,
      flag: 'seed',
    }),
  }),
  earlyStopping: Type.Object({
    enabled: bool({ description: 'stop when validation F1 stops improving', default: true }),
    minDelta: nonNeg({ description: 'smallest F1 gain that counts as improving', default: 0.001 }),
    patience: int(1, { description: 'epochs without improvement before stopping', default: 3 }),
    warmupEpochs: int(0, { description: 'leading epochs not monitored', default: 3 }),
  }),
  runtime: Type.Object({
    engine: oneOf(['ort', 'tfjs'], {
      description: 'training engine: ort (onnxruntime-node graphs) or tfjs (the reference)',
      default: 'ort',
      flag: 'engine',
    }),
    backend: str({
      description: 'tfjs backend: wasm | cpu | tensorflow | tensorflow-gpu (empty = automatic)',
      default: '',
      flag: 'backend',
      placeholder: '<name>',
    }),
    ortKernels: bool({
      description: 'onnxruntime-backed BatchMatMul/Sum/Tile kernels on the tfjs wasm backend',
      default: true,
      flag: 'no-ort-kernels',
    }),
    ortArena: bool({
      description:
        "ort engine: keep onnxruntime's CPU memory arena for full micro-batches and single prompts (~0.7x step time, ~90 MB more per prompt, released after each epoch's training pass)",
      default: true,
    }),
    cacheDir: text('a directory', {
      description: 'embedding cache folder (default <samtune cache>/embeddings)',
      default: embeddingCacheDir,
      flag: 'cache-dir',
      placeholder: '<dir>',
    }),
  }),
  out: text('a run directory', {
    description: 'run directory (best/last.safetensors, state, config.yaml, results.csv, train.jsonl, report)',
    default: '',
    flag: 'out',
    placeholder: '<dir>',
  }),
});

/** The training configuration: the schema's static type. */
export type TrainConfig = Static<typeof TrainConfigSchema>;
/** Training engines (`runtime.engine`). */
export type TrainEngineName = TrainConfig['runtime']['engine'];
/** How prompts are built from each instance (`prompt.mode`). */
export type PromptModeOption = TrainConfig['prompt']['mode'];

/** The schema annotations of a leaf key (see `KeyOptions`), as read back from a schema. */
export type KeySchema = TSchema & Partial<KeyOptions> & { readonly expected?: string };
