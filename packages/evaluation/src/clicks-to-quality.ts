/**
 * Clicks-to-quality, the standard interactive segmentation protocol (RITM, SAM, micro-sam), for
 * labelling: how many clicks a person needs until the mask is good enough.
 *
 * - Click 1 is positive, at the pixel of the ground-truth mask farthest from its boundary
 *   (`interiorPoint`).
 * - Each next click goes into the LARGEST error region (4-connected component; false negatives and
 *   false positives as separate regions, the larger one wins, a false negative on a tie), at its pixel
 *   farthest from that region's boundary: positive in a false negative, negative in a false positive.
 * - The previous prediction's low-res logits are fed back as `mask_input`.
 * - At most `maxClicks` (20); a sequence stops early once the IoU reaches the highest threshold and
 *   `minClicks` (5, for IoU@5) were made, or when the prediction has no error left. IoU after a click
 *   that was not made is the last IoU measured.
 *
 * NoC@t is the number of clicks until IoU >= t, `maxClicks` when never reached; the reported NoC@85
 * and NoC@90 are means over instances, IoU@k the mean IoU after k clicks. All at the original size.
 */
import { interiorPoint, largestComponent, type BinaryMask, type Point } from '@samtune/transforms';
import type { FloatTensor } from '@samtune/sam-model';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown for a predicted mask of another size than its ground truth, or bad protocol options. */
export class ClicksInputError extends SamtuneError {
  readonly code: string = 'clicks-input';
  readonly kind: ErrorKind = 'input';
}

/** A click in ORIGINAL pixels: `(x,y)` and its label (1 positive, 0 negative). */
export interface Click {
  readonly point: Point;
  readonly label: 1 | 0;
}

/** What a click predictor returns: the chosen mask at the original size and its low-res logits. */
export interface ClickPrediction {
  /** `(H,W)` 0/1. */
  readonly mask: Uint8Array;
  /** `[1,256,256]` logits, fed back as the next call's mask input. */
  readonly lowRes: FloatTensor;
}

/** Decodes the clicks so far (ORIGINAL pixels) with the previous low-res logits as mask input. */
export type ClickPredictor = (clicks: readonly Click[], maskInput: FloatTensor | undefined) => Promise<ClickPrediction>;

/** Options of the protocol. */
export interface ClickProtocolOptions {
  /** Default 20. */
  readonly maxClicks?: number;
  /** Clicks made at least (for IoU@k), default 5. */
  readonly minClicks?: number;
  /** IoU thresholds of NoC, default `[0.85, 0.9]`. */
  readonly thresholds?: readonly number[];
}

/** Mask IoU of a 0/1 prediction against a ground truth (nonzero = foreground); 1 when both are empty. */
export function maskIoU(pred: ArrayLike<number>, gt: ArrayLike<number>): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < gt.length; i++) {
    const p = pred[i] !== 0;
    const g = gt[i] !== 0;
    if (p && g) inter++;
    if (p || g) union++;
  }
  return union === 0 ? 1 : inter / union;
}

/** The next click of the protocol for prediction `pred` against `gt`, or undefined without error. */
export function nextClick(gt: BinaryMask, pred: ArrayLike<number>): Click | undefined {
  if (pred.length !== gt.data.length)
    throw new ClicksInputError(
      `nextClick(pred): expected ${gt.data.length} pixels (the ground truth's (H,W)=(${gt.height},${gt.width})), got ${pred.length}`,
    );
  const fn = new Uint8Array(gt.data.length);
  const fp = new Uint8Array(gt.data.length);
  for (let i = 0; i < fn.length; i++) {
    const g = gt.data[i] !== 0;
    const p = pred[i] !== 0;
    if (g && !p) fn[i] = 1;
    else if (p && !g) fp[i] = 1;
  }
  const size = { width: gt.width, height: gt.height };
  const neg = largestComponent({ ...size, data: fp });
  const pos = largestComponent({ ...size, data: fn });
  if (!pos && !neg) return undefined;
  if (pos && (!neg || pos.area >= neg.area)) return { point: interiorPoint(pos.mask), label: 1 };
  return { point: interiorPoint((neg as NonNullable<typeof neg>).mask), label: 0 };
}

/**
 * Runs the protocol on one instance.
 * @returns the IoU after each click made (length between 1 and `maxClicks`)
 */
export async function clickSequence(
  gt: BinaryMask,
  predict: ClickPredictor,
  options: ClickProtocolOptions = {},
): Promise<number[]> {
  const maxClicks = options.maxClicks ?? 20;
  const minClicks = Math.min(options.minClicks ?? 5, maxClicks);
  const top = Math.max(...(options.thresholds ?? [0.85, 0.9]));
  if (!Number.isInteger(maxClicks) || maxClicks < 1)
    throw new ClicksInputError(`clickSequence(options.maxClicks): expected an integer >= 1, got ${maxClicks}`);
  const clicks: Click[] = [{ point: interiorPoint(gt), label: 1 }];
  const ious: number[] = [];
  let maskInput: FloatTensor | undefined;
  for (;;) {
    const r = await predict(clicks, maskInput);
    ious.push(maskIoU(r.mask, gt.data));
    if (clicks.length >= maxClicks || (clicks.length >= minClicks && (ious.at(-1) as number) >= top)) break;
    const next = nextClick(gt, r.mask);
    if (!next) break;
    clicks.push(next);
    maskInput = r.lowRes;
  }
  return ious;
}

/** Clicks-to-quality over instances. */
export interface ClicksResult {
  /** Mean clicks to IoU >= 0.85 (`maxClicks` when never reached). */
  readonly noc85: number;
  readonly noc90: number;
  /** Mean IoU after 1, 3 and 5 clicks. */
  readonly iouAt1: number;
  readonly iouAt3: number;
  readonly iouAt5: number;
  readonly instances: number;
  readonly maxClicks: number;
}

/** Accumulates `clickSequence` results; `compute` gives the means (NaN without instances). */
export class ClicksAccumulator {
  private readonly sequences: number[][] = [];
  constructor(readonly maxClicks = 20) {}

  add(ious: readonly number[]): void {
    if (ious.length === 0) throw new ClicksInputError('ClicksAccumulator.add(ious): expected at least one click');
    this.sequences.push([...ious]);
  }

  /** Clicks until IoU >= t in one sequence, `maxClicks` when never. */
  private noc(ious: readonly number[], t: number): number {
    const k = ious.findIndex((v) => v >= t);
    return k < 0 ? this.maxClicks : k + 1;
  }

  compute(): ClicksResult {
    const n = this.sequences.length;
    const mean = (f: (s: readonly number[]) => number): number =>
      n === 0 ? Number.NaN : this.sequences.reduce((a, s) => a + f(s), 0) / n;
    const at = (k: number) => (s: readonly number[]) => s[Math.min(k, s.length) - 1] as number;
    return {
      noc85: mean((s) => this.noc(s, 0.85)),
      noc90: mean((s) => this.noc(s, 0.9)),
      iouAt1: mean(at(1)),
      iouAt3: mean(at(3)),
      iouAt5: mean(at(5)),
      instances: n,
      maxClicks: this.maxClicks,
    };
  }
}
