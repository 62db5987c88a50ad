/**
 * The two training engines behind one small interface (`MicroBatchStepper`) for `trainEpoch`:
 *
 * - `tfjs` (reference): `microBatchGradients` + `GradientAccumulator` + the tfjs `Adam`;
 * - `ort` (default): `OrtTrainEngine`, forward + loss + backward + Adam as onnxruntime-node graphs.
 *
 * The predictor's `tf.Variable`s and the tfjs `Adam` stay the run's state of record (checkpoints,
 * run state, validation, resume): the ort engine loads them when an epoch starts and writes the
 * trained weights and Adam moments back when it ends (a few host copies per epoch, never per step),
 * so the files written after training are the same for both engines. One engine (its compiled
 * sessions) is kept per predictor.
 */
import * as tf from '@tensorflow/tfjs';
import type { SamPredictor, WeightMap } from '@samtune/sam-model';
import { PE_GAUSSIAN_KEY } from '@samtune/sam-model';
import type { FloatTensor } from '@samtune/onnx';
import type { TrainEngineName } from './config.js';
import type { Adam } from './optimizer.js';
import { GradientAccumulator, microBatchGradients, type DecoderPromptBatch, type LossParts } from './train-step.js';
import { OrtTrainEngine } from './ort-engine/engine.js';
import { recipeGradients, type MicroBatchRecipe } from './recipe/recipe.js';
import { checkRecipeEngine } from './recipe/options.js';

/** One engine's micro-batch accumulation and optimizer step. */
export interface MicroBatchStepper {
  /** Forward + backward of one micro-batch; adds `scale * grad`; returns the unscaled loss parts. */
  accumulate(
    embedding: FloatTensor,
    batch: DecoderPromptBatch,
    targets: Float32Array,
    scale: number,
    /** Non-default recipe (`recipe/`): loss resolution, simulated clicks; tfjs engine only. */
    recipe?: MicroBatchRecipe,
  ): LossParts;
  /** One optimizer step from the accumulated gradients. */
  step(): void;
  /**
   * Ends the epoch (the ort engine writes weights and moments back); frees per-epoch memory (the ort
   * engine's memory arenas, before the validation pass).
   */
  finish(): void;
}

/** The prompt-encoder tensors the training graphs bake in (box and point prompts, no mask input). */
const PROMPT_KEYS = [
  PE_GAUSSIAN_KEY,
  'prompt_encoder.not_a_point_embed.weight',
  'prompt_encoder.no_mask_embed.weight',
  ...[0, 1, 2, 3].map((i) => `prompt_encoder.point_embeddings.${i}.weight`),
];

/** The weights a training graph needs, copied from the predictor. */
function predictorWeights(predictor: SamPredictor): WeightMap {
  const out: WeightMap = new Map(predictor.maskDecoderWeights());
  for (const key of PROMPT_KEYS) {
    if (!predictor.ops.hasParam(key)) continue;
    const t = predictor.ops.param(key);
    out.set(key, { dtype: 'float32', shape: [...t.shape], data: new Float32Array(t.dataSync()) });
  }
  return out;
}

const engines = new WeakMap<SamPredictor, OrtTrainEngine>();

/** Options of `createStepper` / `ortEngineFor`. */
export interface StepperOptions {
  /** The ort engine keeps a memory arena for these micro-batch sizes (`memArenaBatches`; config `runtime.ortArena`). */
  readonly arenaBatches?: readonly number[];
}

/**
 * The micro-batch sizes whose sessions keep a memory arena under `runtime.ortArena`: full
 * micro-batches, and single prompts (images with one instance, one-prompt steps). ~90 MB a prompt.
 */
export function ortArenaBatches(microBatch: number): number[] {
  return [...new Set([1, microBatch])];
}

/** The ort engine of this predictor (built once, with the optimizer's hyper-parameters). */
export function ortEngineFor(predictor: SamPredictor, optimizer: Adam, options: StepperOptions = {}): OrtTrainEngine {
  let e = engines.get(predictor);
  if (!e) {
    e = new OrtTrainEngine({
      config: predictor.config,
      weights: predictorWeights(predictor),
      adam: {
        lr: optimizer.lr,
        betas: [optimizer.beta1, optimizer.beta2],
        eps: optimizer.eps,
        weightDecay: optimizer.weightDecay,
      },
      intraOpThreads: 2,
      ...(options.arenaBatches !== undefined ? { memArenaBatches: options.arenaBatches } : {}),
    });
    engines.set(predictor, e);
  }
  return e;
}

/** Releases the ort engine of this predictor, if one was built. */
export function releaseOrtEngine(predictor: SamPredictor): void {
  engines.get(predictor)?.dispose();
  engines.delete(predictor);
}

/** The stepper of `engine` for one epoch. */
export function createStepper(
  engine: TrainEngineName,
  predictor: SamPredictor,
  optimizer: Adam,
  options: StepperOptions = {},
): MicroBatchStepper {
  return engine === 'ort' ? ortStepper(predictor, optimizer, options) : tfjsStepper(predictor, optimizer);
}

function tfjsStepper(predictor: SamPredictor, optimizer: Adam): MicroBatchStepper {
  const acc = new GradientAccumulator();
  return {
    accumulate(embedding, batch, targets, scale, recipe) {
      const emb = tf.tensor(embedding.data, [...embedding.shape]);
      const target = tf.tensor(targets, [batch.size, 1, 256, 256]);
      try {
        const { grads, parts } = recipe
          ? recipeGradients(predictor, emb, batch, targets, scale, recipe)
          : microBatchGradients(predictor, emb, batch, target, scale);
        acc.add(grads);
        return parts;
      } finally {
        emb.dispose();
        target.dispose();
      }
    },
    step() {
      const grads = acc.take();
      optimizer.step(grads);
      tf.dispose(Object.values(grads));
    },
    finish() {
      acc.dispose();
    },
  };
}

function ortStepper(predictor: SamPredictor, optimizer: Adam, options: StepperOptions): MicroBatchStepper {
  const engine = ortEngineFor(predictor, optimizer, options);
  engine.setWeights(predictor.maskDecoderWeights());
  engine.loadAdamState(optimizer.state());
  return {
    accumulate(embedding, batch, targets, scale, recipe) {
      if (recipe) checkRecipeEngine('ort', recipe.recipe);
      return engine.accumulate(embedding.data, batch, targets, scale);
    },
    step() {
      engine.step(optimizer.lr);
    },
    finish() {
      predictor.setMaskDecoderWeights(engine.weights());
      optimizer.load(engine.adamState());
      engine.releaseArenas();
    },
  };
}
