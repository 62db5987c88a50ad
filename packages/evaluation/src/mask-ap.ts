/**
 * Mask average precision the COCO way (pycocotools' `COCOeval`, `iouType='segm'`, area range `all`,
 * `maxDets` 100): per image and category, detections in descending score order are matched greedily
 * to the unmatched ground-truth mask of highest mask IoU >= t, for t in 0.50:0.05:0.95; per category
 * and threshold, precision is made monotone and read at the 101 recall points 0:0.01:1; AP is the mean
 * over categories that have ground truth, AP@[.5:.95] also over the ten thresholds.
 *
 * In samtune's prompted evaluation each ground-truth instance is a prompt and yields one detection,
 * scored by the decoder's predicted IoU: AP then rewards a model whose predicted IoU ranks its good
 * masks above its bad ones, which F1/IoU/Dice do not measure.
 *
 * Crowd ground truth (`iscrowd`) follows COCOeval: it is an ignore region. A detection's IoU with it
 * is `|d ∩ g| / |d|`; a detection prefers any plain ground truth over a crowd one, may share a crowd
 * region with other detections, and when matched to one counts neither as true nor as false positive.
 * Crowd instances add nothing to recall; a category with only crowd ground truth has no AP.
 *
 * Ties in score are broken like COCOeval: by image id (numbers numerically, then strings), then by
 * the order of the detections within their image, so the result does not depend on the order in which
 * images are added.
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import type { PixelArray } from './metrics.js';

/** `np.linspace(start, stop, n)` to the last bit (`i * step + start`): an IoU of exactly 0.9 passes 0.8999…9 there. */
const linspace = (start: number, stop: number, n: number): number[] =>
  Array.from({ length: n }, (_, i) => i * ((stop - start) / (n - 1)) + start);
/** IoU thresholds 0.50, 0.55, …, 0.95 (pycocotools' `iouThrs`). */
export const AP_IOU_THRESHOLDS: readonly number[] = linspace(0.5, 0.95, 10);
/** Recall points 0, 0.01, …, 1 (pycocotools' `recThrs`). */
const RECALL_POINTS: readonly number[] = linspace(0, 1, 101);
/** Detections kept per image and category, the highest scores (COCO's `maxDets[-1]`). */
export const AP_MAX_DETECTIONS = 100;

/** COCO mask AP numbers (`NaN` when no ground truth was added). */
export interface MaskApResult {
  /** AP@[.50:.05:.95]. */
  readonly ap: number;
  /** AP at IoU 0.50. */
  readonly ap50: number;
  /** AP at IoU 0.75. */
  readonly ap75: number;
}

/** A ground-truth instance of one image: its category and `(H,W)` mask (foreground where > 0.5). */
export interface ApGroundTruth {
  readonly category: number;
  readonly mask: PixelArray;
  /** COCO `iscrowd`: an ignore region (see the module comment). Default false. */
  readonly iscrowd?: boolean;
}

/** An image's id for the tie order: COCO's image id, or any string (numbers sort before strings). */
export type ApImageId = number | string;

/** A one-to-one match at IoU 0.50 that `addImage` made: indices into its `gts` and `dets`. */
export interface ApMatch {
  readonly gt: number;
  readonly det: number;
  /** Mask IoU of the pair. */
  readonly iou: number;
}

/** A predicted instance of one image: category, score (e.g. predicted IoU), `(H,W)` mask (foreground where > 0). */
export interface ApDetection {
  readonly category: number;
  readonly score: number;
  readonly mask: PixelArray;
}

/** Thrown when masks of one image differ in size or a score is not finite. */
export class MaskApInputError extends SamtuneError {
  readonly code: string = 'mask-ap-input';
  readonly kind: ErrorKind = 'input';
}

/**
 * One detection after matching: its score, image and place in that image's score order, and per
 * threshold whether it matched a ground truth and whether that match was a crowd region (ignored).
 */
interface MatchedDetection {
  readonly score: number;
  readonly image: ApImageId;
  readonly rank: number;
  readonly matched: readonly boolean[];
  readonly ignored: readonly boolean[];
}

/** COCOeval's image order: numbers ascending, then strings in code-unit order. */
function compareImageIds(a: ApImageId, b: ApImageId): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Foreground pixel indices and the bounding index range of a mask. */
interface Pixels {
  readonly set: Uint8Array;
  readonly count: number;
  readonly first: number;
  readonly last: number;
}

function pixels(mask: PixelArray, threshold: number): Pixels {
  const set = new Uint8Array(mask.length);
  let count = 0;
  let first = mask.length;
  let last = -1;
  for (let i = 0; i < mask.length; i++) {
    if ((mask[i] as number) > threshold) {
      set[i] = 1;
      count++;
      if (first === mask.length) first = i;
      last = i;
    }
  }
  return { set, count, first, last };
}

/**
 * Mask IoU of a detection and a ground truth of the same size (0 when both are empty, like
 * pycocotools); against a crowd region the denominator is the detection's area.
 */
function maskIou(det: Pixels, gt: Pixels, crowd: boolean): number {
  const lo = Math.max(det.first, gt.first);
  const hi = Math.min(det.last, gt.last);
  let inter = 0;
  for (let i = lo; i <= hi; i++) inter += det.set[i]! & gt.set[i]!;
  const union = crowd ? det.count : det.count + gt.count - inter;
  return union === 0 ? 0 : inter / union;
}

/** Accumulates images, then computes COCO mask AP (see the module comment). */
export class MaskApAccumulator {
  /** Per category: detections of every image and the count of plain (not crowd) ground truths. */
  private readonly byCategory = new Map<number, { dets: MatchedDetection[]; gts: number }>();

  /**
   * Adds one image: its ground truths and detections, all masks `(H,W)` row-major of one size.
   * @param label names the image in errors
   * @param imageId orders tied scores across images (COCO's image id; default `label`)
   * @returns the one-to-one matches at IoU 0.50 with plain ground truths (COCOeval's first threshold)
   * @throws MaskApInputError when a mask has another size than the first one, or a score is not finite
   */
  addImage(
    gts: readonly ApGroundTruth[],
    dets: readonly ApDetection[],
    label = 'image',
    imageId: ApImageId = label,
  ): ApMatch[] {
    const size = gts[0]?.mask.length ?? dets[0]?.mask.length ?? 0;
    for (const m of [...gts, ...dets]) {
      if (m.mask.length !== size)
        throw new MaskApInputError(
          `MaskApAccumulator.addImage(gts, dets): ${label}: expected every mask to have ${size} pixels, got ${m.mask.length}`,
        );
    }
    for (const d of dets) {
      if (!Number.isFinite(d.score))
        throw new MaskApInputError(
          `MaskApAccumulator.addImage(dets): ${label}: expected finite scores, got ${d.score}`,
        );
    }
    const gtPixels = gts.map((g) => pixels(g.mask, 0.5));
    const kept = dets.map((d, i) => ({ d, i })).sort((a, b) => b.d.score - a.d.score || a.i - b.i);
    const categories = new Set([...gts.map((g) => g.category), ...kept.map((k) => k.d.category)]);
    const matches: ApMatch[] = [];
    for (const c of categories) {
      const entry = this.byCategory.get(c) ?? { dets: [], gts: 0 };
      this.byCategory.set(c, entry);
      // plain ground truths first, crowd regions after (COCOeval sorts by its ignore flag)
      const gIdx = gts.flatMap((g, i) => (g.category === c && !g.iscrowd ? [i] : []));
      entry.gts += gIdx.length;
      gIdx.push(...gts.flatMap((g, i) => (g.category === c && g.iscrowd ? [i] : [])));
      const crowd = gIdx.map((g) => gts[g]!.iscrowd === true);
      const taken = AP_IOU_THRESHOLDS.map(() => new Set<number>());
      for (const [rank, { d, i }] of kept
        .filter((k) => k.d.category === c)
        .slice(0, AP_MAX_DETECTIONS)
        .entries()) {
        const dp = pixels(d.mask, 0);
        const ious = gIdx.map((g, k) => maskIou(dp, gtPixels[g] as Pixels, crowd[k]!));
        const best = AP_IOU_THRESHOLDS.map((t, ti) => {
          let m = -1;
          let bestIou = Math.min(t, 1 - 1e-10);
          for (const [k, iou] of ious.entries()) {
            if (taken[ti]!.has(k)) continue;
            if (m >= 0 && !crowd[m] && crowd[k]) break;
            if (iou < bestIou) continue;
            bestIou = iou;
            m = k;
          }
          if (m >= 0 && !crowd[m]) taken[ti]!.add(m);
          return m;
        });
        const at50 = best[0]!;
        if (at50 >= 0 && !crowd[at50]) matches.push({ gt: gIdx[at50]!, det: i, iou: ious[at50]! });
        entry.dets.push({
          score: d.score,
          image: imageId,
          rank,
          matched: best.map((m) => m >= 0),
          ignored: best.map((m) => m >= 0 && crowd[m]!),
        });
      }
    }
    return matches;
  }

  /** COCO AP@[.5:.95], AP50 and AP75 over everything added (`NaN` without plain ground truth). */
  compute(): MaskApResult {
    // precision[t][category] = mean interpolated precision over the 101 recall points
    const perThreshold = AP_IOU_THRESHOLDS.map((_, ti) => {
      const values: number[] = [];
      for (const { dets, gts } of this.byCategory.values()) {
        if (gts === 0) continue;
        const order = [...dets].sort(
          (a, b) => b.score - a.score || compareImageIds(a.image, b.image) || a.rank - b.rank,
        );
        const recall: number[] = [];
        const precision: number[] = [];
        let tp = 0;
        let fp = 0;
        for (const d of order) {
          if (d.ignored[ti]) continue;
          if (d.matched[ti]) tp++;
          else fp++;
          recall.push(tp / gts);
          precision.push(tp / (tp + fp));
        }
        for (let i = precision.length - 1; i > 0; i--)
          if (precision[i]! > precision[i - 1]!) precision[i - 1] = precision[i]!;
        let sum = 0;
        let j = 0;
        for (const r of RECALL_POINTS) {
          while (j < recall.length && recall[j]! < r) j++; // searchsorted(recall, r, side='left')
          if (j < recall.length) sum += precision[j]!;
        }
        values.push(sum / RECALL_POINTS.length);
      }
      return values;
    });
    const mean = (xs: readonly number[]): number =>
      xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
    return {
      ap: mean(perThreshold.flat()),
      ap50: mean(perThreshold[0] ?? []),
      ap75: mean(perThreshold[5] ?? []),
    };
  }
}
