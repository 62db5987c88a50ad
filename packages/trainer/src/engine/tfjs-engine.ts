/**
 * The `tfjs` training engine (the reference; `@tensorflow/tfjs-node-gpu` where installed): the
 * decoder's `tf.Variable`s in a `SamPredictor`, `microBatchGradients` (or the recipe's
 * `recipeGradients`) under `tf.variableGrads`, `GradientAccumulator`, and the tfjs `Adam`; validation
 * decodes on the same predictor (`tfjsEvalDecoder`).
 */
import * as tf from '@tensorflow/tfjs';
import { tfjsEvalDecoder } from '@samtune/evaluation';
import { SamPredictor } from '@samtune/sam-model';
import { Adam } from '../optimizer.js';
import { recipeGradients } from '../recipe/recipe.js';
import { GradientAccumulator, microBatchGradients } from '../train-step.js';
import type { TrainEngine, TrainEngineContext } from './contract.js';

/** A tfjs engine over its own predictor (built from the context's weights; disposed with the engine). */
export function createTfjsEngine(context: TrainEngineContext): TrainEngine {
  const predictor = new SamPredictor({ config: context.config, weights: context.weights });
  const optimizer = new Adam(Object.fromEntries(predictor.trainableVariables()), context.adam);
  const acc = new GradientAccumulator();
  return {
    name: 'tfjs',
    load(state) {
      predictor.setMaskDecoderWeights(state.weights());
      optimizer.load(state.adamState());
    },
    accumulate(embedding, batch, targets, scale, recipe) {
      const emb = tf.tensor(embedding.data, [...embedding.shape]);
      const target = tf.tensor(targets, [batch.size, 1, 256, 256]);
      try {
        const { grads, parts } = recipe
          ? recipeGradients(predictor, emb, batch, targets, scale, recipe)
          : microBatchGradients(predictor, emb, batch, target, scale, context.loss);
        acc.add(grads);
        return parts;
      } finally {
        emb.dispose();
        target.dispose();
      }
    },
    step(lr) {
      const grads = acc.take();
      optimizer.lr = lr;
      optimizer.step(grads);
      tf.dispose(Object.values(grads));
    },
    read(state) {
      state.setWeights(predictor.maskDecoderWeights());
      state.loadAdamState(optimizer.state());
    },
    evalDecoder: () => tfjsEvalDecoder(predictor),
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
