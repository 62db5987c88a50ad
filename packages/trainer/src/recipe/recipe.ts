/**
 * The training recipe's options beyond SAM's defaults, from the config to one micro-batch:
 * `loss.resolution` (`loss-resolution.ts`) and `prompt.iterations` (`simulated-clicks.ts`).
 * Both engines run them: this module is the tfjs engine's form; the ort engine's is
 * `OrtTrainEngine.accumulateRecipe` (the same clicks, `clicks.ts`, and post-processing matrices).
 */
import * as tf from '@tensorflow/tfjs';
import type { ResizeGeometry } from '@samtune/transforms';
import type { SamPredictor } from '@samtune/sam-model';
import { derivedRng, type DecoderPromptBatch, type PromptSpec, type TrainItem } from '@samtune/training-data';
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import { microBatchGradients, type MicroBatchGradients, type MicroBatchLoss } from '../train-step.js';
import { originalLossFrame } from './loss-resolution.js';
import { isDefaultRecipe, type MicroBatchRecipe, type TrainRecipe } from './options.js';
export type { MicroBatchRecipe } from './options.js';
import { iterativeDecoderLoss } from './simulated-clicks.js';

/** Thrown when a micro-batch's instance mask cannot be read again at the original size. */
export class RecipeInputError extends SamtuneError {
  readonly code: string = 'recipe-input';
  readonly kind: ErrorKind = 'input';
}

/**
 * The micro-batch's recipe inputs (`undefined` for the default recipe): with `original`, the chunk's
 * instance masks decoded again at the original size.
 */
export async function microBatchRecipe(
  recipe: TrainRecipe,
  item: TrainItem,
  chunk: readonly PromptSpec[],
  geometry: ResizeGeometry,
  seed: number,
  epoch: number,
): Promise<MicroBatchRecipe | undefined> {
  if (isDefaultRecipe(recipe)) return undefined;
  const labels = ['clicks', epoch, item.id, chunk[0]?.target.instanceId ?? ''];
  if (recipe.resolution === 'lowres') return { recipe, geometry, seed, labels };
  const [H, W] = geometry.originalSize;
  const out = new Float32Array(chunk.length * H * W);
  for (const [i, p] of chunk.entries()) {
    const inst = item.instances.find((x) => x.id === p.target.instanceId);
    if (!inst) {
      throw new RecipeInputError(
        `microBatchRecipe(${item.imagePath}): instance '${p.target.instanceId}' is not in the item any more`,
      );
    }
    const mask = await inst.mask();
    if (mask.width !== W || mask.height !== H) {
      throw new RecipeInputError(
        `microBatchRecipe(${item.imagePath}): instance '${inst.id}' mask is (H,W)=(${mask.height},${mask.width}), expected (${H},${W})`,
      );
    }
    const base = i * H * W;
    for (let k = 0; k < H * W; k++) out[base + k] = mask.data[k] !== 0 ? 1 : 0;
  }
  return { recipe, geometry, originalTargets: out, seed, labels };
}

/** The `microBatchGradients` loss of a recipe (`lowResTargets`: `[B*256*256]`, for the clicks). */
export function recipeLoss(m: MicroBatchRecipe, lowResTargets: ArrayLike<number>): MicroBatchLoss {
  const toLossFrame = m.recipe.resolution === 'original' ? originalLossFrame(m.geometry) : undefined;
  return (predictor, embedding, batch, targets, lossConfig) =>
    iterativeDecoderLoss(predictor, embedding, batch, targets, lossConfig, {
      iterations: m.recipe.iterations,
      lowResTargets,
      geometry: m.geometry,
      rng: derivedRng(m.seed, ...m.labels),
      ...(toLossFrame ? { toLossFrame } : {}),
    });
}

/**
 * `microBatchGradients` with the recipe: the targets at the loss's resolution (`[B,1,256,256]` or
 * `[B,1,H,W]`) and the recipe's loss. The tfjs engine's stepper calls it for non-default recipes.
 * @param embedding `[1,256,64,64]`
 * @param lowResTargets `[B*256*256]` 0/1 low-res targets
 */
export function recipeGradients(
  predictor: SamPredictor,
  embedding: tf.Tensor,
  batch: DecoderPromptBatch,
  lowResTargets: Float32Array,
  scale: number,
  m: MicroBatchRecipe,
): MicroBatchGradients {
  const [H, W] = m.geometry.originalSize;
  const target = m.originalTargets
    ? tf.tensor4d(m.originalTargets, [batch.size, 1, H, W])
    : tf.tensor4d(lowResTargets, [batch.size, 1, 256, 256]);
  try {
    return microBatchGradients(predictor, embedding, batch, target, scale, {}, recipeLoss(m, lowResTargets));
  } finally {
    target.dispose();
  }
}
