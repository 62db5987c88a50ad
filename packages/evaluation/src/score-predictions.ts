/**
 * Scoring a COCO results file (`[{image_id, category_id, segmentation, score}]`, what detectron2,
 * mmdetection, Ultralytics or `pycocotools`' `loadRes` take) against a loaded dataset, the way
 * pycocotools' `COCOeval` (`iouType='segm'`) does: mask AP@[.5:.95], AP50 and AP75 with crowd ground
 * truth as ignore regions and ties ordered by image id (`MaskApAccumulator`). Images are every item
 * of the given subset; a result's `image_id` refers to an item's `sourceId` (COCO image id), or to its
 * `id` for formats without one.
 *
 * F1, IoU and Dice (`MetricAccumulator`, pixels pooled) are taken over the pairs that match one to one
 * at IoU 0.50 (COCOeval's first threshold); unmatched ground truths and detections are counted apart.
 *
 * A result that cannot be scored (no such image, malformed segmentation, a score that is not a finite
 * number, a category the dataset does not declare) is reported in `skipped` and left out.
 */
import { readFile } from 'node:fs/promises';
import {
  DatasetError,
  MalformedAnnotationError,
  UnknownCategoryError,
  parsePolygon,
  parseRle,
  partsMask,
  type DatasetItem,
  type DatasetLabel,
  type MaskPart,
} from '@samtune/datasets';
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import { MaskApAccumulator, type ApDetection, type ApGroundTruth } from './mask-ap.js';
import { MetricAccumulator } from './metrics.js';

const READER = 'scorePredictions';

/** What `scorePredictions` measured. */
export interface PredictionScores {
  /** COCO mask AP@[.5:.95] (NaN without plain ground truth). */
  readonly ap: number;
  readonly ap50: number;
  readonly ap75: number;
  /** Pixel F1 / IoU / Dice over the one-to-one matches at IoU 0.50 (0 without any match). */
  readonly f1: number;
  readonly iou: number;
  readonly dice: number;
  /** Images of the subset. */
  readonly images: number;
  /** Plain (not crowd) ground-truth instances. */
  readonly instances: number;
  /** Crowd ground-truth regions (ignored, as COCOeval does). */
  readonly crowd: number;
  /** Results scored. */
  readonly detections: number;
  /** Ground truth / detection pairs matched at IoU 0.50. */
  readonly matched: number;
  /** Results that could not be scored, each with its reason. */
  readonly skipped: readonly DatasetError[];
}

/** Thrown when a results file cannot be read or is not a JSON array. */
export class PredictionsFileError extends SamtuneError {
  readonly code: string = 'predictions-file';
  readonly kind: ErrorKind = 'input';
}

/** Reads a COCO results file: a JSON array of detections. */
export async function readPredictions(path: string): Promise<unknown[]> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (err) {
    throw new PredictionsFileError(
      `readPredictions(path): cannot read '${path}' as JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (!Array.isArray(doc))
    throw new PredictionsFileError(
      `readPredictions(path): expected '${path}' to hold a JSON array of {image_id, category_id, segmentation, score}, got ${doc === null ? 'null' : typeof doc}`,
    );
  return doc;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

interface ParsedDetection {
  readonly category: number;
  readonly score: number;
  readonly parts: readonly MaskPart[];
}

/** Validates one result against its image; throws a DatasetError naming the entry. */
function parseDetection(
  raw: unknown,
  index: number,
  item: DatasetItem | undefined,
  labels: ReadonlyMap<number, DatasetLabel>,
  file: string,
): ParsedDetection & { item: DatasetItem } {
  const loc = {
    reader: READER,
    file,
    itemId: isObj(raw) ? String(raw.image_id) : undefined,
    annotationId: `[${index}]`,
  };
  if (!isObj(raw))
    throw new MalformedAnnotationError(
      loc,
      `expected {image_id, category_id, segmentation, score}, got ${typeof raw}`,
      'annotation',
    );
  if (!item)
    throw new MalformedAnnotationError(
      loc,
      `image_id ${JSON.stringify(raw.image_id)} is not an image of the evaluated subset`,
      'annotation',
    );
  const category = raw.category_id;
  if (typeof category !== 'number' || !labels.has(category))
    throw new UnknownCategoryError(loc, category as string | number, [...labels.keys()]);
  if (typeof raw.score !== 'number' || !Number.isFinite(raw.score))
    throw new MalformedAnnotationError(
      loc,
      `expected a finite number score, got ${JSON.stringify(raw.score)}`,
      'annotation',
    );
  const seg = raw.segmentation;
  const size = { width: item.width, height: item.height };
  let parts: MaskPart[];
  if (isObj(seg)) parts = [parseRle(seg, size, loc)];
  else if (Array.isArray(seg) && seg.length > 0)
    parts = seg.map((p) => ({ kind: 'polygon', xy: parsePolygon(p, loc) }));
  else
    throw new MalformedAnnotationError(
      loc,
      `expected a segmentation (RLE {size, counts} or polygons), got ${seg === undefined ? 'none (box-only results have no mask to score)' : JSON.stringify(seg).slice(0, 80)}`,
      'annotation',
    );
  return { item, category, score: raw.score, parts };
}

/**
 * Scores `predictions` (a COCO results array, see `readPredictions`) against `items` of one subset.
 * @param labels the dataset's categories; results of other categories are skipped and reported
 * @param file names the results file in messages
 */
export async function scorePredictions(
  items: readonly DatasetItem[],
  labels: readonly DatasetLabel[],
  predictions: readonly unknown[],
  file = 'predictions',
): Promise<PredictionScores> {
  const byKey = new Map(items.map((it) => [String(it.sourceId ?? it.id), it]));
  const labelMap = new Map(labels.map((l) => [l.id, l]));
  const perItem = new Map<DatasetItem, ParsedDetection[]>();
  const skipped: DatasetError[] = [];
  predictions.forEach((raw, i) => {
    const item = isObj(raw) ? byKey.get(String(raw.image_id)) : undefined;
    try {
      const d = parseDetection(raw, i, item, labelMap, file);
      perItem.set(d.item, [...(perItem.get(d.item) ?? []), d]);
    } catch (err) {
      if (err instanceof DatasetError) skipped.push(err);
      else throw err;
    }
  });
  const ap = new MaskApAccumulator();
  const pixels = new MetricAccumulator();
  let instances = 0;
  let crowd = 0;
  let detections = 0;
  let matched = 0;
  for (const item of items) {
    const gts: ApGroundTruth[] = [];
    for (const inst of item.instances) {
      gts.push({ category: inst.label.id, mask: (await inst.mask()).data, iscrowd: inst.iscrowd });
      if (inst.iscrowd) crowd++;
      else instances++;
    }
    const dets: ApDetection[] = (perItem.get(item) ?? []).map((d) => ({
      category: d.category,
      score: d.score,
      mask: partsMask(d.parts, item.width, item.height).data,
    }));
    detections += dets.length;
    const label = `${item.subset}/${item.id}`;
    for (const m of ap.addImage(gts, dets, label, item.sourceId ?? item.id)) {
      pixels.add(dets[m.det]!.mask, gts[m.gt]!.mask, 'logits', `${label}#${item.instances[m.gt]!.id}`);
      matched++;
    }
  }
  const a = ap.compute();
  const p = pixels.compute();
  return {
    ...a,
    f1: p.f1,
    iou: p.iou,
    dice: p.dice,
    images: items.length,
    instances,
    crowd,
    detections,
    matched,
    skipped,
  };
}
