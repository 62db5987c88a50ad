/**
 * Mask average precision the COCO way (pycocotools' `COCOeval`, `iouType='segm'`, area range `all`,
 * `maxDets` 100): per image and category, detections in descending score order are matched greedily
 * to the unmatched ground-truth mask of highest mask IoU >= t, for t in 0.50:0.05:0.95; per category
 * and threshold, precision is made monotone and read at the 101 recall points 0:0.01:1; AP is the mean
 * over categories that have ground truth, AP@[.5:.95] also over the ten thresholds.
 *
 * In samtune's prompted evaluation each ground-truth instance is a prompt and yields one detection,
 * scored by the decoder's predicted IoU: AP then rewards a model whose predicted IoU ranks its good
 * masks above its bad ones, which F1/IoU/Dice do not measure. No crowd regions (every instance counts).
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
  override readonly name = 'MaskApInputError';
}

/** One detection after matching: its score and, per threshold, whether it matched a ground truth. */
interface MatchedDetection {
  readonly score: number;
  readonly matched: readonly boolean[];
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

/** Mask IoU of two pixel sets of the same size (0 when both are empty, like pycocotools). */
function maskIou(a: Pixels, b: Pixels): number {
  const lo = Math.max(a.first, b.first);
  const hi = Math.min(a.last, b.last);
  let inter = 0;
  for (let i = lo; i <= hi; i++) inter += a.set[i]! & b.set[i]!;
  const union = a.count + b.count - inter;
  return union === 0 ? 0 : inter / union;
}

/** Accumulates images, then computes COCO mask AP (see the module comment). */
export class MaskApAccumulator {
  /** Per category: detections of every image (in image order) and the ground-truth count. */
  private readonly byCategory = new Map<number, { dets: MatchedDetection[]; gts: number }>();

  /**
   * Adds one image: its ground truths and detections, all masks `(H,W)` row-major of one size.
   * @param label names the image in errors
   * @throws MaskApInputError when a mask has another size than the first one, or a score is not finite
   */
  addImage(gts: readonly ApGroundTruth[], dets: readonly ApDetection[], label = 'image'): void {
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
    for (const c of categories) {
      const entry = this.byCategory.get(c) ?? { dets: [], gts: 0 };
      this.byCategory.set(c, entry);
      const gIdx = gts.flatMap((g, i) => (g.category === c ? [i] : []));
      entry.gts += gIdx.length;
      const taken = AP_IOU_THRESHOLDS.map(() => new Set<number>());
      for (const { d } of kept.filter((k) => k.d.category === c).slice(0, AP_MAX_DETECTIONS)) {
        const dp = pixels(d.mask, 0);
        const ious = gIdx.map((g) => maskIou(dp, gtPixels[g] as Pixels));
        const matched = AP_IOU_THRESHOLDS.map((t, ti) => {
          let best = -1;
          let bestIou = Math.min(t, 1 - 1e-10);
          for (const [k, iou] of ious.entries()) {
            if (taken[ti]!.has(k) || iou < bestIou) continue;
            bestIou = iou;
            best = k;
          }
          if (best >= 0) taken[ti]!.add(best);
          return best >= 0;
        });
        entry.dets.push({ score: d.score, matched });
      }
    }
  }

  /** COCO AP@[.5:.95], AP50 and AP75 over everything added (`NaN` without ground truth). */
  compute(): MaskApResult {
    // precision[t][category] = mean interpolated precision over the 101 recall points
    const perThreshold = AP_IOU_THRESHOLDS.map((_, ti) => {
      const values: number[] = [];
      for (const { dets, gts } of this.byCategory.values()) {
        if (gts === 0) continue;
        const order = dets.map((d, i) => ({ d, i })).sort((a, b) => b.d.score - a.d.score || a.i - b.i);
        const recall: number[] = [];
        const precision: number[] = [];
        let tp = 0;
        let fp = 0;
        for (const { d } of order) {
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
