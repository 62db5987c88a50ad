/**
 * `evaluateClicks`: clicks-to-quality (`clicks-to-quality.ts`) of a decoder over a subset, on the
 * decoder that validation uses (`EvalDecoder.decodeClicks`: the ORT one, `ortEvalDecoder`, so one
 * session serves pixel metrics and clicks). The instances are those `evaluate` scores (the
 * `TargetStore`'s: non-crowd, non-empty), the first `maxInstances` per image; each click sequence
 * decodes with `multimask: 'auto'` (one click: the best of three masks; more: the single mask) and
 * the masks come thresholded from the post-processing graph at the original size.
 */
import type { EmbeddingCache } from './embedding-cache.js';
import { ClicksAccumulator, clickSequence, type ClicksResult } from './clicks-to-quality.js';
import type { EvalDecoder } from './eval-decoder.js';
import { EvaluateError } from './evaluate-error.js';
import type { TargetStore, TrainItem } from '@samtune/training-data';

export interface EvaluateClicksOptions {
  /** Must have `decodeClicks` (`ortEvalDecoder`'s); the caller releases it. */
  readonly decoder: EvalDecoder;
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
  const decodeClicks = o.decoder.decodeClicks?.bind(o.decoder);
  if (!decodeClicks)
    throw new EvaluateError(
      'evaluateClicks(decoder): expected an EvalDecoder with decodeClicks (ortEvalDecoder), got one without (tfjs and SAM 2.1 decoders have none)',
    );
  const maxClicks = o.maxClicks ?? 20;
  const acc = new ClicksAccumulator(maxClicks);
  for (const [i, item] of o.items.entries()) {
    const { targets } = await o.targets.get(item);
    const chosen = o.maxInstances > 0 ? targets.slice(0, o.maxInstances) : targets;
    if (chosen.length > 0) {
      const features = await o.cache.get(item.imagePath);
      const byId = new Map(item.instances.map((inst) => [inst.id, inst]));
      for (const t of chosen) {
        const inst = byId.get(t.instanceId);
        if (!inst) continue;
        const gt = await inst.mask();
        const ious = await clickSequence(
          gt,
          (clicks, maskInput) => decodeClicks(features, features.originalSize, clicks, maskInput),
          { maxClicks },
        );
        acc.add(ious);
      }
    }
    o.onProgress?.(i + 1, o.items.length);
  }
  return acc.compute();
}
