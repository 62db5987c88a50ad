/**
 * The schema of the training configuration (TypeBox): `validateTrainConfig` checks a merged config
 * against it, and every rule's `description` is the "expected …" of the error message, so a bad
 * value reads `config 'training.microBatch': expected an integer >= 1, got 0`. A type-level check
 * below keeps the schema and the documented `TrainConfig` interface identical.
 */
import { Type, type Static } from 'typebox';
import type { TrainConfig } from './config.js';

const text = (description: string) => Type.String({ minLength: 1, description });
const str = () => Type.String({ description: 'a string' });
const posInt = () => Type.Integer({ minimum: 1, description: 'an integer >= 1' });
const natInt = (what = 'an integer >= 0') => Type.Integer({ minimum: 0, description: what });
const nonNeg = () => Type.Number({ minimum: 0, description: 'a number >= 0' });
const bool = () => Type.Boolean({ description: 'true or false' });
const lit = Type.Literal;

export const TrainConfigSchema = Type.Object({
  checkpoint: text('a checkpoint name or path'),
  data: Type.Object({
    root: text('a dataset directory'),
    images: str(),
    valFraction: Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'a number in [0, 1)' }),
    plugins: Type.Array(Type.String(), { description: 'a list of module paths' }),
    format: text('a dataset format name or auto'),
    strict: bool(),
    crowd: Type.Union([lit('keep'), lit('ignore')], { description: 'keep or ignore' }),
    train: Type.Object({
      subset: text('a subset name'),
      batchSize: posInt(),
      maxInstances: natInt('an integer >= 0 (0 = all)'),
    }),
    val: Type.Object({ subset: text('a subset name or auto'), maxInstances: natInt('an integer >= 0 (0 = all)') }),
  }),
  prompt: Type.Object({
    mode: Type.Union([lit('box'), lit('point'), lit('both')], { description: 'box, point or both' }),
    points: posInt(),
    jitterFraction: nonNeg(),
    jitterPixels: nonNeg(),
    iterations: natInt('an integer >= 0 (0 = off)'),
  }),
  loss: Type.Object({
    resolution: Type.Union([lit('lowres'), lit('original')], { description: 'lowres or original' }),
  }),
  optimizer: Type.Object({
    lr: Type.Number({ exclusiveMinimum: 0, description: 'a finite number > 0' }),
    betas: Type.Tuple(
      [Type.Number({ minimum: 0, exclusiveMaximum: 1 }), Type.Number({ minimum: 0, exclusiveMaximum: 1 })],
      {
        description: 'two numbers in [0, 1)',
      },
    ),
    eps: Type.Number({ exclusiveMinimum: 0, description: 'a number > 0' }),
    weightDecay: nonNeg(),
  }),
  training: Type.Object({ epochs: posInt(), microBatch: posInt(), seed: Type.Integer({ description: 'an integer' }) }),
  earlyStopping: Type.Object({
    enabled: bool(),
    minDelta: nonNeg(),
    patience: posInt(),
    warmupEpochs: natInt(),
  }),
  runtime: Type.Object({
    engine: Type.Union([lit('ort'), lit('tfjs')], { description: 'ort or tfjs' }),
    backend: str(),
    ortKernels: bool(),
    ortArena: bool(),
    cacheDir: text('a directory'),
  }),
  out: text('a run directory'),
});

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compile-time: the schema's type is exactly `TrainConfig` (modulo readonly). */
export const SCHEMA_MATCHES_TRAIN_CONFIG: Same<Static<typeof TrainConfigSchema>, TrainConfig> = true;
