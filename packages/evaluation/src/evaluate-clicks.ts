/**
 * `evaluateClicks`: clicks-to-quality (`clicks-to-quality.ts`) of a decoder over a subset, on the ORT
 * engine. The instances are those `evaluate` scores (the `TargetStore`'s: non-crowd, non-empty), the
 * first `maxInstances` per image; each click sequence decodes with `multimask: 'auto'` (one click:
 * the best of three masks; more: the single mask) and the masks come thresholded from the
 * post-processing graph at the original size. SAM 2.1: a `Sam2OrtDecoder` on a `sam2` cache (entries
 * with the high-res levels); its low-res logits (clamped to ±32) are fed back as the mask input.
 */
import { Sam2OrtDecoder, type DecodeResult, type OrtDecoder, type PredictPrompts } from '@samtune/sam-model';
import type { EmbeddingCache } from './embedding-cache.js';
import { ClicksAccumulator, ClicksInputError, clickSequence, type ClicksResult } from './clicks-to-quality.js';
import type { TargetStore, TrainItem } from '@samtune/training-data';

export interface EvaluateClicksOptions {
  /** SAM 1's ORT engine, or SAM 2.1's (then the cache's entries must carry the high-res levels). */
  readonly decoder: OrtDecoder | Sam2OrtDecoder;
  readonly cache: EmbeddingCache;
  readonly targets: TargetStore;
  readonly items: readonly TrainItem[];
  /** Instances per image (the first ones), 0 = all. */
  readonly maxInstances: number;
  /** Default 20. */
  readonly maxClicks?: number;
  /** Called after each image. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** NoC@85/90 and IoU@1/3/5 of `decoder` on `items` (see the module comment). */
export async function evaluateClicks(o: EvaluateClicksOptions): Promise<ClicksResult> {
  const maxClicks = o.maxClicks ?? 20;
  const acc = new ClicksAccumulator(maxClicks);
  for (const [i, item] of o.items.entries()) {
    const { targets } = await o.targets.get(item);
    const chosen = o.maxInstances > 0 ? targets.slice(0, o.maxInstances) : targets;
    if (chosen.length > 0) {
      const entry = await o.cache.get(item.imagePath);
      const { originalSize } = entry;
      const predict = (prompts: PredictPrompts): Promise<DecodeResult> => {
        const opts = { multimask: 'auto', maskOutput: 'binary' } as const;
        if (!(o.decoder instanceof Sam2OrtDecoder))
          return o.decoder.predict(entry.embedding, prompts, originalSize, opts);
        if (!entry.highResFeats)
          throw new ClicksInputError(
            `evaluateClicks(decoder): a SAM 2.1 decoder needs the cache entry's high_res_feats.0/.1, ${item.imagePath} has none`,
          );
        const features = { imageEmbedding: entry.embedding, highResFeatures: entry.highResFeats };
        return o.decoder.predict(features, prompts, originalSize, opts);
      };
      const byId = new Map(item.instances.map((inst) => [inst.id, inst]));
      for (const t of chosen) {
        const inst = byId.get(t.instanceId);
        if (!inst) continue;
        const gt = await inst.mask();
        const ious = await clickSequence(
          gt,
          async (clicks, maskInput) => {
            const r = await predict({
              points: clicks.map((c) => c.point),
              labels: clicks.map((c) => c.label),
              ...(maskInput ? { maskInput } : {}),
            });
            return { mask: (r.binaryMasks as { data: Uint8Array }).data, lowRes: r.lowResMasks };
          },
          { maxClicks },
        );
        acc.add(ious);
      }
    }
    o.onProgress?.(i + 1, o.items.length);
  }
  return acc.compute();
}
