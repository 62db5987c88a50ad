/**
 * One training epoch: the train images in a seeded random order (seed, epoch), grouped into batches
 * of `batchSize` images; each image contributes its instances (a seeded random choice up to the cap)
 * as prompts. The batch loss is the mean over ALL prompts of the batch: every micro-batch of up to
 * `microBatch` prompts (one image each) is differentiated with the scale `B_micro / B_batch` and the
 * gradients are summed, then Adam takes one step. Returns the mean loss parts over the epoch's prompts.
 * The training engine (`engine/contract.ts`) runs the micro-batches and the step; `endEpoch()` ends it.
 */
import { ResizeGeometry } from '@samtune/transforms';
import type { TrainConfig } from './config.js';
import type { EmbeddingCache } from '@samtune/evaluation';
import type { TrainEventHandler } from './events.js';
import type { TrainEngine } from './engine/contract.js';
import {
  buildPrompts,
  chunks,
  derivedRng,
  shuffled,
  toDecoderBatch,
  type PromptSpec,
  type TargetStore,
  type TrainItem,
} from '@samtune/training-data';
import { microBatchRecipe } from './recipe/recipe.js';

export interface EpochTotals {
  readonly loss: number;
  readonly focal: number;
  readonly dice: number;
  readonly iou: number;
  readonly steps: number;
  readonly prompts: number;
}

export interface TrainEpochOptions {
  readonly config: TrainConfig;
  /** The engine that trains (loaded with the run's state). */
  readonly engine: TrainEngine;
  readonly cache: EmbeddingCache;
  readonly targets: TargetStore;
  readonly items: readonly TrainItem[];
  /** 1-based epoch number (seeds this epoch's generator). */
  readonly epoch: number;
  readonly onEvent: TrainEventHandler;
}

/** Number of optimizer steps of an epoch. */
export function stepsPerEpoch(items: number, batchSize: number): number {
  return Math.ceil(items / batchSize);
}

/** Runs one epoch (see the module comment). */
export async function trainEpoch(o: TrainEpochOptions): Promise<EpochTotals> {
  const { config, engine, cache, targets, items, epoch, onEvent } = o;
  const rng = derivedRng(config.training.seed, 'epoch', epoch);
  const order = shuffled(items, rng);
  const batches = chunks(order, config.data.train.batchSize);
  const sums = { loss: 0, focal: 0, dice: 0, iou: 0 };
  let prompts = 0;
  let steps = 0;
  try {
    for (const [s, batch] of batches.entries()) {
      const perImage: { item: TrainItem; prompts: PromptSpec[] }[] = [];
      for (const item of batch) {
        const t = (await targets.get(item)).targets;
        perImage.push({ item, prompts: buildPrompts(item, t, config.prompt, config.data.train.maxInstances, rng) });
      }
      const total = perImage.reduce((n, x) => n + x.prompts.length, 0);
      let batchLoss = 0;
      if (total > 0) {
        for (const { item, prompts: ps } of perImage) {
          if (ps.length === 0) continue;
          const cached = await cache.get(item.imagePath);
          const geometry = new ResizeGeometry(cached.originalSize, undefined, { resize: targets.resize });
          for (const chunk of chunks(ps, config.training.microBatch)) {
            const { batch: b, targets: tgt } = toDecoderBatch(chunk, geometry);
            const recipe = await microBatchRecipe(
              { resolution: config.loss.resolution, iterations: config.prompt.iterations },
              item,
              chunk,
              geometry,
              config.training.seed,
              epoch,
            );
            const parts = engine.accumulate(cached.embedding, b, tgt, b.size / total, recipe, cached.highResFeats);
            sums.loss += parts.loss * b.size;
            sums.focal += parts.focal * b.size;
            sums.dice += parts.dice * b.size;
            sums.iou += parts.iou * b.size;
            batchLoss += (parts.loss * b.size) / total;
          }
        }
        engine.step(config.optimizer.lr);
        prompts += total;
      }
      steps++;
      onEvent({ type: 'step', epoch, step: s + 1, steps: batches.length, loss: batchLoss, prompts: total });
    }
  } finally {
    engine.endEpoch();
  }
  const mean = (x: number): number => (prompts > 0 ? x / prompts : Number.NaN);
  return { loss: mean(sums.loss), focal: mean(sums.focal), dice: mean(sums.dice), iou: mean(sums.iou), steps, prompts };
}
