/**
 * The `tfjs` training engine (the reference; `@tensorflow/tfjs-node-gpu` where installed): the
 * decoder's `tf.Variable`s in a `SamPredictor` (SAM 2.1: a `Sam2Predictor`), `microBatchGradients`
 * (or the recipe's `recipeGradients`; SAM 2.1: `sam2MicroBatchGradients`) under `tf.variableGrads`,
 * `GradientAccumulator`, and the tfjs `Adam`; validation decodes on the same predictor
 * (`tfjsEvalDecoder`).
 */
import * as tf from '@tensorflow/tfjs';
import { sam2EvalDecoder, tfjsEvalDecoder } from '@samtune/evaluation';
import { floatTensor, type FloatTensor } from '@samtune/tensor';
import {
  Sam2Predictor,
  SamPredictor,
  isSam2Config,
  isTrainableDecoderKey,
  useMultimask,
  type TfDecoderWeights,
} from '@samtune/sam-model';
import { Adam } from '../optimizer.js';
import { recipeGradients } from '../recipe/recipe.js';
import { isDefaultRecipe } from '../recipe/options.js';
import { sam2MicroBatchGradients } from '../sam2-train-step.js';
import { GradientAccumulator, microBatchGradients } from '../train-step.js';
import type { TrainEngine, TrainEngineContext } from './contract.js';
import { TrainStepError, type LossParts } from './types.js';

/** One micro-batch's gradients (by key; the engine disposes them) and unscaled loss parts. */
type Gradients = (...args: Parameters<TrainEngine['accumulate']>) => {
  grads: Map<string, tf.Tensor>;
  parts: LossParts;
};

/** A tfjs engine over its own predictor (built from the context's weights; disposed with the engine). */
export function createTfjsEngine(context: TrainEngineContext): TrainEngine {
  const { config } = context;
  if (isSam2Config(config)) {
    const predictor = new Sam2Predictor({ config, weights: context.weights });
    return tfjsEngine(predictor, sam2Gradients(predictor, context), context);
  }
  const predictor = new SamPredictor({ config, weights: context.weights });
  return tfjsEngine(
    predictor,
    (embedding, batch, targets, scale, recipe) => {
      const emb = tf.tensor(embedding.data, [...embedding.shape]);
      const target = tf.tensor(targets, [batch.size, 1, 256, 256]);
      try {
        return recipe
          ? recipeGradients(predictor, emb, batch, targets, scale, recipe)
          : microBatchGradients(predictor, emb, batch, target, scale, context.loss);
      } finally {
        emb.dispose();
        target.dispose();
      }
    },
    context,
  );
}

/** SAM 2.1's micro-batch: `sam2DecoderLoss` with the image's projected high-res features. */
function sam2Gradients(predictor: Sam2Predictor, context: TrainEngineContext): Gradients {
  return (embedding, batch, targets, scale, recipe, highResFeats) => {
    if (!highResFeats)
      throw new TrainStepError(
        "tfjs engine accumulate(highResFeats): a SAM 2.1 model needs the image's high_res_feats.0/.1, got none",
      );
    if (recipe && !isDefaultRecipe(recipe.recipe))
      throw new TrainStepError(
        'tfjs engine accumulate(recipe): simulated clicks and loss.resolution original are SAM 1 only, got them for a SAM 2.1 model',
      );
    const b = batch.size;
    const n = batch.numPoints;
    const t = (x: FloatTensor): tf.Tensor => tf.tensor(x.data, [...x.shape]);
    return sam2MicroBatchGradients(
      predictor,
      () => ({
        embedding: t(embedding),
        highResFeatures: [t(highResFeats[0]), t(highResFeats[1])],
        ...(batch.boxes ? { boxes: tf.tensor(batch.boxes, [b, 4]) } : {}),
        ...(n > 0
          ? {
              coords: tf.tensor(batch.coords as Float32Array, [b, n, 2]),
              labels: tf.tensor(batch.labels as Float32Array, [b, n]),
            }
          : {}),
        targets: tf.tensor(targets, [b, 1, 256, 256]),
        multimask: useMultimask({ hasBox: batch.boxes !== undefined, numPoints: n }),
      }),
      scale,
      context.loss,
    );
  };
}

/** The engine around a predictor's trainable variables (`isTrainableDecoderKey`) and a gradient function. */
function tfjsEngine(predictor: TfDecoderWeights, gradients: Gradients, context: TrainEngineContext): TrainEngine {
  const vars = [...predictor.trainableVariables()].filter(([k]) => isTrainableDecoderKey(k));
  const optimizer = new Adam(Object.fromEntries(vars), context.adam);
  const acc = new GradientAccumulator();
  return {
    name: 'tfjs',
    load(state) {
      predictor.setMaskDecoderWeights(state.weights());
      optimizer.load(state.adamState());
    },
    accumulate(...args) {
      const { grads, parts } = gradients(...args);
      acc.add(grads);
      return parts;
    },
    gradients() {
      const sums = acc.take();
      const out = new Map(
        vars.map(([k, v]) => {
          const g = sums[k];
          return [k, floatTensor(g ? (g.dataSync() as Float32Array).slice() : new Float32Array(v.size), v.shape)];
        }),
      );
      acc.add(new Map(Object.entries(sums))); // back into the accumulator (add disposes them)
      return out;
    },
    step(lr) {
      const grads = acc.take();
      optimizer.lr = lr;
      optimizer.step(grads);
      tf.dispose(Object.values(grads));
    },
    read(state) {
      const weights = predictor.maskDecoderWeights();
      state.setWeights(new Map([...weights].filter(([k]) => isTrainableDecoderKey(k))));
      state.loadAdamState(optimizer.state());
    },
    evalDecoder: () =>
      predictor instanceof Sam2Predictor ? sam2EvalDecoder(predictor) : tfjsEvalDecoder(predictor as SamPredictor),
    endEpoch() {
      acc.dispose();
    },
    dispose() {
      acc.dispose();
      optimizer.dispose();
      predictor.dispose();
    },
  };
}
