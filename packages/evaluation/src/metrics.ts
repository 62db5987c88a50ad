/**
 * Validation metrics of the reference recipe: pixel-level binary F1, IoU (Jaccard) and Dice,
 * MICRO-averaged over all instance masks. True/false positives and false negatives are summed over
 * every pixel of every instance mask (at the original image size, `(H,W)` of the image), and the
 * scores are computed once from the totals:
 *
 * ```
 * f1   = 2TP / (2TP + FP + FN)
 * iou  =  TP / (TP + FP + FN)
 * dice = 2TP / (2TP + FP + FN)
 * ```
 *
 * For binary pixel-level micro averaging F1 and Dice are the same number (both are the harmonic
 * mean of precision and recall over the pooled pixels); both are reported because the reference
 * reports both. Large masks therefore weigh more than small ones (unlike a mean of per-instance
 * scores). A zero denominator (no positive pixel predicted or annotated anywhere) gives 0, like
 * torchmetrics' `zero_division=0`.
 *
 * A prediction pixel is foreground when its probability is > 0.5, i.e. its logit is > 0; binary
 * predictions (0/1, or any nonzero value as foreground) go through the same `> 0` test. Target
 * pixels are foreground when > 0.5 (0/1 or 0/255 masks).
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Plain typed or untyped array of pixel values, row-major `(H,W)`. */
export type PixelArray = ArrayLike<number>;

/** How `add` reads the prediction values. */
export type PredictionKind = 'logits' | 'probabilities';

/** The pooled counts. */
export interface ConfusionCounts {
  /** Predicted and annotated foreground pixels. */
  readonly tp: number;
  /** Predicted foreground, annotated background. */
  readonly fp: number;
  /** Predicted background, annotated foreground. */
  readonly fn: number;
  /** Pixels seen in all. */
  readonly pixels: number;
  /** Instance masks added. */
  readonly instances: number;
}

/** Scores from the pooled counts. */
export interface SegmentationMetrics {
  readonly f1: number;
  readonly iou: number;
  readonly dice: number;
  /** Instance masks that went into the scores. */
  readonly instances: number;
}

/** Thrown when a prediction and its target differ in size. */
export class MetricInputError extends SamtuneError {
  readonly code: string = 'metric-input';
  readonly kind: ErrorKind = 'input';
}

/** Micro-averaged pixel metrics over instance masks; `add` one mask pair at a time. */
export class MetricAccumulator {
  private tp = 0;
  private fp = 0;
  private fn = 0;
  private pixels = 0;
  private instances = 0;

  /**
   * Adds one instance mask.
   * @param prediction `(H,W)` row-major logits (default; foreground where > 0), 0/1 binary values
   *   (read the same way), or probabilities with `kind = 'probabilities'` (foreground where > 0.5)
   * @param target `(H,W)` row-major binary target at the same size (foreground where > 0.5)
   * @param label names the item in errors (e.g. `image.jpg#3`)
   * @throws MetricInputError when the sizes differ
   */
  add(prediction: PixelArray, target: PixelArray, kind: PredictionKind = 'logits', label = 'instance'): void {
    if (prediction.length !== target.length) {
      throw new MetricInputError(
        `MetricAccumulator.add(prediction, target): ${label}: prediction has ${prediction.length} pixels, target ${target.length}`,
      );
    }
    const threshold = kind === 'probabilities' ? 0.5 : 0;
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < prediction.length; i++) {
      const p = (prediction[i] as number) > threshold;
      const t = (target[i] as number) > 0.5;
      if (p) {
        if (t) tp++;
        else fp++;
      } else if (t) {
        fn++;
      }
    }
    this.tp += tp;
    this.fp += fp;
    this.fn += fn;
    this.pixels += prediction.length;
    this.instances += 1;
  }

  /** Adds the counts of another accumulator (e.g. of another worker). */
  merge(other: MetricAccumulator): void {
    const c = other.counts();
    this.tp += c.tp;
    this.fp += c.fp;
    this.fn += c.fn;
    this.pixels += c.pixels;
    this.instances += c.instances;
  }

  /** The pooled counts so far. */
  counts(): ConfusionCounts {
    return { tp: this.tp, fp: this.fp, fn: this.fn, pixels: this.pixels, instances: this.instances };
  }

  /** Micro-averaged F1, IoU and Dice (F1 === Dice) over everything added. */
  compute(): SegmentationMetrics {
    return metricsFromCounts(this.counts());
  }

  /** Forgets everything added. */
  reset(): void {
    this.tp = 0;
    this.fp = 0;
    this.fn = 0;
    this.pixels = 0;
    this.instances = 0;
  }
}

/** F1/IoU/Dice from pooled counts; 0 where the denominator is 0. */
export function metricsFromCounts(c: ConfusionCounts): SegmentationMetrics {
  const f1Den = 2 * c.tp + c.fp + c.fn;
  const iouDen = c.tp + c.fp + c.fn;
  const f1 = f1Den === 0 ? 0 : (2 * c.tp) / f1Den;
  return { f1, iou: iouDen === 0 ? 0 : c.tp / iouDen, dice: f1, instances: c.instances };
}
