/**
 * Prompts in, labels out, for ONE image: a mask for each prompt from an image embedding, with the
 * same rules as `samtune autolabel` (box-priority `selectPrompt`; one point: best-IoU of three masks,
 * otherwise token 0 — `multimask: 'auto'`; binary mask = logits > `maskThreshold` at the original
 * size, on the model's engine, onnxruntime by default; COCO compressed RLE; empty masks are reported,
 * not written).
 *
 * NOTE: this is the per-image body of `autolabel` in @samtune/trainer, composed here from the same
 * sam-model / transforms / datasets pieces because jobs may not import trainer; the two should share
 * one function once it moves below trainer.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { encodeRleString, maskToRle } from '@samtune/datasets';
import type { ImageEmbedding, SamModel } from '@samtune/sam-model';
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import { maskArea, maskBox, selectPrompt, type BinaryMask, type PromptMode } from '@samtune/transforms';
import type { JobPrompt, LabelAnnotation } from './job-data.js';

/** The model returned something else than one binary mask at the image size (a bug, not bad input). */
export class LabelImageError extends SamtuneError {
  readonly code: string = 'label-image';
  readonly kind: ErrorKind = 'internal';
  override readonly name = 'LabelImageError';
}

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
  model: SamModel,
  emb: ImageEmbedding,
  prompts: readonly JobPrompt[],
  mode: PromptMode,
): Promise<ImageLabels> {
  const [height, width] = emb.originalSize;
  const annotations: LabelAnnotation[] = [];
  const skipped: string[] = [];
  for (const p of prompts) {
    await yieldToLoop();
    let prompt;
    try {
      prompt = selectPrompt(
        { ...(p.box ? { box: p.box } : {}), ...(p.points?.length ? { points: p.points } : {}) },
        mode,
      );
    } catch (err) {
      skipped.push(`instance ${p.instanceId}: ${(err as Error).message}`);
      continue;
    }
    // `auto`: the samtune rule (one point: best-IoU of tokens 1..3; otherwise token 0): one mask
    const res = await model.predict(
      emb,
      prompt.kind === 'box' ? { box: prompt.box } : { points: prompt.points, labels: prompt.labels },
      { multimask: 'auto', maskOutput: 'binary' },
    );
    const plane = width * height;
    const bin = res.binaryMasks;
    if (!bin || bin.data.length !== plane)
      throw new LabelImageError(
        `labelImage(model): expected binaryMasks [1,${height},${width}], got ${bin ? `[${bin.shape.join(',')}]` : 'none'}`,
      );
    const mask: BinaryMask = { width, height, data: bin.data as Uint8Array };
    const area = maskArea(mask);
    if (area === 0) {
      skipped.push(`instance ${p.instanceId}: the predicted mask is empty`);
      continue;
    }
    const [x0, y0, x1, y1] = maskBox(mask);
    annotations.push({
      instance_id: p.instanceId,
      category_id: p.categoryId,
      segmentation: { size: [height, width], counts: encodeRleString(maskToRle(mask)) },
      area,
      bbox: [x0, y0, x1 - x0 + 1, y1 - y0 + 1],
      iscrowd: 0,
      score: +(res.iouPredictions.data[0] as number).toFixed(5),
      prompt: prompt.kind,
    });
  }
  return { annotations, skipped };
}
