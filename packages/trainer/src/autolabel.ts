/**
 * Prompts in, labels out: predicts a mask for every prompt of a dataset (boxes, e.g. a detector's
 * output as COCO, and/or Datumaro-style points) with a SAM model — typically a fine-tuned run's
 * `best.safetensors` — and returns a COCO instances document whose `segmentation` is compressed RLE.
 * The result is an ordinary COCO file that `@samtune/datasets` reads back (review, train, evaluate).
 *
 * Each prompt goes through `labelPrompt` (@samtune/evaluation): the box-priority rule, sam-model's
 * mask-selection rule, RLE from the decoder engine.
 */
import type { Dataset, DatasetItem } from '@samtune/datasets';
import { labelPrompt, type CocoLabelDocument } from '@samtune/evaluation';
import type { SamModel } from '@samtune/sam-model';

/** The model `autolabel` runs: a `SamModel`, or a `Sam2Model` (SAM 2.1), by these calls. */
export type AutolabelModel = Pick<SamModel, 'predict' | 'embedImage' | 'source'> & {
  readonly config: { readonly name: string };
};
import { ImageReadError, readImage, type PromptMode } from '@samtune/transforms';

/** A COCO instances document of predicted labels (compressed RLE segmentations). */
export type CocoInstances = CocoLabelDocument;

export interface AutolabelOptions {
  /** `both` (default): the box when an instance has one, else its points; `box` / `points` require that kind. */
  readonly prompt?: PromptMode;
  /** Only these subsets (default: all). */
  readonly subsets?: readonly string[];
  /** Called after each image: `(done, total, imageId)`. */
  readonly onProgress?: (done: number, total: number, detail: string) => void;
  /** `file_name` written for an item (default: the image path relative to nothing: its basename). */
  readonly fileName?: (item: DatasetItem) => string;
}

export interface AutolabelResult {
  readonly coco: CocoInstances;
  readonly images: number;
  readonly instances: number;
  /** Prompts or images that could not be labelled, with the reason (file, item, what). */
  readonly skipped: readonly string[];
  /** Prompts whose predicted mask was empty (no annotation written; not an error), the same way. */
  readonly empty: readonly string[];
}

/** Labels every prompt of `dataset` with `model` (one image embedding per image). */
export async function autolabel(
  model: AutolabelModel,
  dataset: Dataset,
  opts: AutolabelOptions = {},
): Promise<AutolabelResult> {
  const mode = opts.prompt ?? 'both';
  const subsets = opts.subsets ?? Object.keys(dataset.subsets);
  const items = subsets.flatMap((s) => dataset.subsets[s] ?? []);
  const coco: CocoInstances = {
    info: {
      description: `samtune autolabel with ${model.config.name} (${model.source.path})`,
      date_created: new Date().toISOString(),
    },
    images: [],
    categories: dataset.labels.map((l) => ({ id: l.id, name: l.name, supercategory: 'none' })),
    annotations: [],
  };
  const skipped: string[] = [];
  const empty: string[] = [];
  for (const [i, item] of items.entries()) {
    const imageId = coco.images.length + 1;
    let img;
    try {
      img = await readImage(item.imagePath);
    } catch (err) {
      if (!(err instanceof ImageReadError)) throw err;
      skipped.push(`${item.imagePath} (item ${item.id}): ${err.message}`);
      opts.onProgress?.(i + 1, items.length, item.id);
      continue;
    }
    coco.images.push({
      id: imageId,
      file_name: opts.fileName?.(item) ?? item.imagePath.split(/[\\/]/).pop()!,
      width: img.width,
      height: img.height,
    });
    const emb = await model.embedImage(img);
    for (const inst of item.instances) {
      const where = `${item.imagePath} (item ${item.id}, instance ${inst.id})`;
      const r = await labelPrompt(
        model,
        emb,
        { box: inst.box, ...(inst.points?.length ? { points: inst.points } : {}) },
        mode,
      );
      if (r.kind === 'invalid') skipped.push(`${where}: ${r.reason}`);
      else if (r.kind === 'empty') empty.push(`${where}: the predicted mask is empty`);
      else
        coco.annotations.push({
          id: coco.annotations.length + 1,
          image_id: imageId,
          category_id: inst.label.id,
          ...r.label,
          iscrowd: 0,
        });
    }
    opts.onProgress?.(i + 1, items.length, item.id);
  }
  return { coco, images: coco.images.length, instances: coco.annotations.length, skipped, empty };
}
