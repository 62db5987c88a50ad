/**
 * Prompts in, labels out, for ONE prompt: the core that `autolabel` (trainer) and the queue workers
 * (jobs) share. The prompt is chosen by the box-priority rule (`selectPrompt`), the output token by
 * sam-model's mask-selection rule (`multimask: 'auto'`: one point keeps the best-IoU of three masks,
 * everything else token 0), and the binary mask (logits > 0 at the original size) comes back from the
 * decoder engine already as COCO run lengths, so no JS loop touches every pixel.
 */
import { encodeRleString, rleBounds } from '@samtune/datasets';
import type { ImageEmbedding, SamModel } from '@samtune/sam-model';

/** What labels a prompt: `SamModel`, or `Sam2Model` for SAM 2.1 (`predict` with `multimask: 'auto'`, RLE output). */
export type LabelModel = Pick<SamModel, 'predict'>;
import { selectPrompt, type PromptCandidates, type PromptMode } from '@samtune/transforms';

/** One predicted label, in COCO's terms at the ORIGINAL image size `(H,W)`. */
export interface PromptLabel {
  /** COCO compressed RLE, column-major. */
  readonly segmentation: { readonly size: [number, number]; readonly counts: string };
  readonly area: number;
  /** `[x, y, w, h]` of the mask, pixels. */
  readonly bbox: [number, number, number, number];
  /** SAM's predicted IoU of the kept mask (5 decimals). */
  readonly score: number;
  /** The prompt kind used. */
  readonly prompt: 'box' | 'points';
}

/** A COCO instances document of predicted labels, as `autolabel` and `samtune queue collect` write it. */
export interface CocoLabelDocument {
  info: { description: string; date_created: string };
  images: { id: number; file_name: string; width: number; height: number }[];
  categories: { id: number; name: string; supercategory: string }[];
  annotations: (PromptLabel & { id: number; image_id: number; category_id: number; iscrowd: 0 })[];
}

/** A label, an empty mask (not an error: nothing to write), or a prompt that cannot be used (why). */
export type PromptLabelResult =
  | { readonly kind: 'label'; readonly label: PromptLabel }
  | { readonly kind: 'empty' }
  | { readonly kind: 'invalid'; readonly reason: string };

/**
 * Labels one prompt on an image embedding.
 * @param candidates the instance's box (XYXY) and/or points (XY, labels 1/0), ORIGINAL pixels
 */
export async function labelPrompt(
  model: LabelModel,
  emb: ImageEmbedding,
  candidates: PromptCandidates,
  mode: PromptMode,
): Promise<PromptLabelResult> {
  let prompt;
  try {
    prompt = selectPrompt(candidates, mode);
  } catch (err) {
    return { kind: 'invalid', reason: (err as Error).message };
  }
  const res = await model.predict(
    emb,
    prompt.kind === 'box' ? { box: prompt.box } : { points: prompt.points, labels: prompt.labels },
    { multimask: 'auto', maskOutput: 'rle' },
  );
  const [height, width] = emb.originalSize;
  const rle = res.rle?.[0];
  const bounds = rle && rleBounds(rle.counts, height);
  if (!rle || !bounds || rle.area === 0) return { kind: 'empty' };
  const [x0, y0, x1, y1] = bounds; // exclusive ends
  return {
    kind: 'label',
    label: {
      segmentation: { size: [height, width], counts: encodeRleString(rle.counts) },
      area: rle.area,
      bbox: [x0, y0, x1 - x0, y1 - y0],
      score: +(res.iouPredictions.data[0] as number).toFixed(5),
      prompt: prompt.kind,
    },
  };
}
