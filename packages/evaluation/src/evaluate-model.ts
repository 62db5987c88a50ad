/**
 * Evaluation of any prompt → mask model that is not the trainer's own tfjs predictor — for example
 * an exported ONNX encoder/decoder pair, FP32 or INT8 — with exactly `evaluate`'s recipe: the
 * instance's tight box as the prompt (`buildPrompts`, no jitter), masks at the ORIGINAL image size,
 * `MetricAccumulator` (micro-averaged pixel F1/IoU/Dice, logit > 0). The model is structural so that
 * the trainer needs no dependency on the package that runs it.
 */
import type { FloatTensor } from '@samtune/sam-model';
import type { CachedEmbedding, EmbeddingCache } from './embedding-cache.js';
import { EvaluateError } from './evaluate-error.js';
import { MetricAccumulator } from './metrics.js';
import { buildPrompts, type TargetStore, type TrainItem } from '@samtune/training-data';

/** A model that turns a box (original pixels, XYXY) on an image embedding into mask logits. */
export interface BoxPromptModel {
  predict(
    emb: CachedEmbedding,
    prompts: { box: [number, number, number, number] },
    opts: { multimask: 'auto' },
  ): Promise<{ masks?: FloatTensor }>;
}

export interface EvaluateModelOptions {
  readonly model: BoxPromptModel;
  /** Embeddings of the model's own image encoder. */
  readonly cache: EmbeddingCache;
  readonly targets: TargetStore;
  readonly items: readonly TrainItem[];
  /** Called after each image. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** F1/IoU/Dice of `model` on `items` with one box prompt per instance (see the module comment). */
export async function evaluateModel(
  options: EvaluateModelOptions,
): Promise<{ f1: number; iou: number; dice: number; images: number; instances: number }> {
  const { model, cache, targets, items, onProgress } = options;
  const acc = new MetricAccumulator();
  let images = 0;
  for (const [i, item] of items.entries()) {
    const { targets: t } = await targets.get(item);
    const prompts = buildPrompts(item, t, { mode: 'box', points: 1, jitterFraction: 0, jitterPixels: 0 }, 0);
    if (prompts.length > 0) {
      images++;
      const emb = await cache.get(item.imagePath);
      const byId = new Map(item.instances.map((inst) => [inst.id, inst]));
      for (const p of prompts) {
        const inst = byId.get(p.target.instanceId);
        if (!inst)
          throw new EvaluateError(
            `evaluateModel(${item.imagePath}): instance '${p.target.instanceId}' disappeared from the item`,
          );
        const r = await model.predict(emb, { box: p.box as [number, number, number, number] }, { multimask: 'auto' });
        if (!r.masks)
          throw new EvaluateError(`evaluateModel(${item.imagePath}): the model returned no original-size masks`);
        acc.add(r.masks.data, (await inst.mask()).data, 'logits', `${item.imagePath}#${inst.id}`);
      }
    }
    onProgress?.(i + 1, items.length);
  }
  const m = acc.compute();
  return { f1: m.f1, iou: m.iou, dice: m.dice, images, instances: m.instances };
}
