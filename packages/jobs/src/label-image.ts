/**
 * Prompts in, labels out, for ONE image of an autolabel job: each prompt goes through `labelPrompt`
 * (@samtune/evaluation), the same core as `samtune autolabel` (box-priority `selectPrompt`; one point:
 * best-IoU of three masks, otherwise token 0; logits > 0 at the original size as COCO compressed RLE
 * from the decoder engine; empty masks are reported, not written).
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { labelPrompt, type LabelModel } from '@samtune/evaluation';
import type { ImageEmbedding } from '@samtune/sam-model';
import type { PromptMode } from '@samtune/transforms';
import type { JobPrompt, LabelAnnotation } from './job-data.js';

/** Labels of one image. */
export interface ImageLabels {
  readonly annotations: LabelAnnotation[];
  /** `instance <id>: <reason>` for each prompt without a label. */
  readonly skipped: string[];
}

/**
 * One mask per prompt of `prompts` (original pixels, XYXY boxes) on `emb` (whose `originalSize` is
 * `(H,W)`). Yields to the event loop between prompts so that BullMQ's lock renewal keeps running.
 */
export async function labelImage(
  model: LabelModel,
  emb: ImageEmbedding,
  prompts: readonly JobPrompt[],
  mode: PromptMode,
): Promise<ImageLabels> {
  const annotations: LabelAnnotation[] = [];
  const skipped: string[] = [];
  for (const p of prompts) {
    await yieldToLoop();
    const candidates = { ...(p.box ? { box: p.box } : {}), ...(p.points?.length ? { points: p.points } : {}) };
    const r = await labelPrompt(model, emb, candidates, mode);
    if (r.kind === 'invalid') skipped.push(`instance ${p.instanceId}: ${r.reason}`);
    else if (r.kind === 'empty') skipped.push(`instance ${p.instanceId}: the predicted mask is empty`);
    else annotations.push({ instance_id: p.instanceId, category_id: p.categoryId, ...r.label, iscrowd: 0 });
  }
  return { annotations, skipped };
}
