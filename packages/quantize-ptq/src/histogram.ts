/**
 * Streaming statistics of one activation tensor over the calibration samples: exact min/max, and a
 * histogram over a symmetric range `[-R, R]` whose range doubles (merging bin pairs exactly) when a
 * sample exceeds it, so no value is ever clipped or re-binned approximately. From it: percentile
 * ranges, and the KL-divergence ("entropy", TensorRT-style) threshold.
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown on invalid statistics requests (no data, bad percentile, bad bin count). */
export class CalibrationStatsError extends SamtuneError {
  readonly code: string = 'calibration-stats';
  readonly kind: ErrorKind = 'input';
}

/** A calibrated float range of an activation tensor. */
export interface TensorRange {
  readonly min: number;
  readonly max: number;
}

/** Default bin count (even). */
export const DEFAULT_BINS = 4096;

export class TensorStats {
  /** Exact minimum seen. */
  min = Number.POSITIVE_INFINITY;
  /** Exact maximum seen. */
  max = Number.NEGATIVE_INFINITY;
  /** Values seen. */
  count = 0;
  /** Histogram over `[-range, range]` (undefined when histograms are off). */
  readonly hist: Float64Array | undefined;
  /** Half-width of the histogram (0 before the first non-zero value). */
  range = 0;
  /** Shape of the first sample seen (set by `observeShape`). */
  shape: number[] | undefined;
  /** Axes whose size differed between samples (dynamic dims). */
  readonly varyingAxes = new Set<number>();

  constructor(
    readonly name: string,
    withHistogram: boolean,
    readonly bins = DEFAULT_BINS,
  ) {
    if (!Number.isInteger(bins) || bins < 8 || bins % 4 !== 0) {
      throw new CalibrationStatsError(`new TensorStats(bins): expected a multiple of 4 >= 8, got ${bins}`);
    }
    this.hist = withHistogram ? new Float64Array(bins) : undefined;
  }

  /** Records a sample's shape (a rank change marks every axis as varying). */
  observeShape(shape: readonly number[]): void {
    if (!this.shape) {
      this.shape = [...shape];
      return;
    }
    const len = Math.max(shape.length, this.shape.length);
    for (let i = 0; i < len; i++)
      if (shape.length !== this.shape.length || shape[i] !== this.shape[i]) this.varyingAxes.add(i);
  }

  /** Adds one sample's values. Non-finite values are refused (they would poison the range). */
  update(data: Float32Array): void {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < data.length; i++) {
      const v = data[i] as number;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (data.length === 0) return;
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
      throw new CalibrationStatsError(
        `TensorStats.update(data): tensor '${this.name}' has non-finite values (min ${lo}, max ${hi}) in a calibration sample`,
      );
    }
    this.min = Math.min(this.min, lo);
    this.max = Math.max(this.max, hi);
    this.count += data.length;
    const hist = this.hist;
    if (!hist) return;
    const absMax = Math.max(Math.abs(lo), Math.abs(hi));
    if (this.range === 0) this.range = absMax;
    if (this.range === 0) {
      hist[this.bins / 2] = (hist[this.bins / 2] as number) + data.length; // all zeros so far
      return;
    }
    while (absMax > this.range) this.double();
    const b = this.bins;
    const k = b / (2 * this.range);
    const r = this.range;
    const counts = new Uint32Array(b + 1); // x = +range lands in bin b, folded into b-1 below
    for (let i = 0; i < data.length; i++) {
      const idx = (((data[i] as number) + r) * k) | 0;
      counts[idx] = (counts[idx] as number) + 1;
    }
    counts[b - 1] = (counts[b - 1] as number) + (counts[b] as number);
    for (let i = 0; i < b; i++) hist[i] = (hist[i] as number) + (counts[i] as number);
  }

  /** Doubles the range: new bin `B/4 + k` holds old bins `2k` and `2k+1`. */
  private double(): void {
    const hist = this.hist as Float64Array;
    const b = this.bins;
    const merged = new Float64Array(b);
    for (let k = 0; k < b / 2; k++) merged[b / 4 + k] = (hist[2 * k] as number) + (hist[2 * k + 1] as number);
    hist.set(merged);
    this.range *= 2;
  }

  private requireData(what: string): void {
    if (this.count === 0)
      throw new CalibrationStatsError(`TensorStats.${what}(): tensor '${this.name}' saw no calibration values`);
  }

  /** `[min, max]` over every sample. */
  minMax(): TensorRange {
    this.requireData('minMax');
    return { min: this.min, max: this.max };
  }

  /**
   * `[q(1 - p/100), q(p/100)]` of the values from the histogram (bin edges, clamped to the exact
   * min/max): 99.99 drops the 0.01% most extreme values on each side.
   */
  percentileRange(percentile: number): TensorRange {
    this.requireData('percentileRange');
    if (!(percentile > 50 && percentile <= 100)) {
      throw new CalibrationStatsError(
        `TensorStats.percentileRange(percentile): expected 50 < p <= 100, got ${percentile}`,
      );
    }
    const hist = this.hist;
    if (!hist)
      throw new CalibrationStatsError(
        `TensorStats.percentileRange(): tensor '${this.name}' was collected without a histogram`,
      );
    if (this.range === 0) return { min: 0, max: 0 };
    const width = (2 * this.range) / this.bins;
    const tail = ((100 - percentile) / 100) * this.count;
    let acc = 0;
    let lo = this.min;
    for (let i = 0; i < this.bins; i++) {
      acc += hist[i] as number;
      if (acc > tail) {
        lo = -this.range + i * width;
        break;
      }
    }
    acc = 0;
    let hi = this.max;
    for (let i = this.bins - 1; i >= 0; i--) {
      acc += hist[i] as number;
      if (acc > tail) {
        hi = -this.range + (i + 1) * width;
        break;
      }
    }
    return { min: Math.max(this.min, lo), max: Math.min(this.max, hi) };
  }

  /**
   * KL-divergence calibration (TensorRT's "entropy" method) on the histogram folded to `|x|`: the
   * clipping threshold T minimising KL(P_T || Q_T) where P_T is the distribution clipped at T (outliers
   * added to the last bin) and Q_T its quantization to `levels` levels. Returns
   * `[max(min, -T), min(max, T)]`.
   */
  entropyRange(levels = 128): TensorRange {
    this.requireData('entropyRange');
    const hist = this.hist;
    if (!hist)
      throw new CalibrationStatsError(
        `TensorStats.entropyRange(): tensor '${this.name}' was collected without a histogram`,
      );
    if (this.range === 0) return { min: 0, max: 0 };
    const half = this.bins / 2;
    const abs = new Float64Array(half);
    for (let i = 0; i < half; i++) abs[i] = (hist[half + i] as number) + (hist[half - 1 - i] as number);
    let last = half;
    while (last > 1 && abs[last - 1] === 0) last--;
    let bestKl = Number.POSITIVE_INFINITY;
    let bestT = last;
    const step = Math.max(1, Math.floor((last - levels) / 256)); // at most ~256 candidates
    const candidates: number[] = [];
    for (let t = Math.min(levels, last); t < last; t += step) candidates.push(t);
    candidates.push(last);
    for (const t of candidates) {
      const kl = klForThreshold(abs, t, levels);
      if (kl < bestKl) {
        bestKl = kl;
        bestT = t;
      }
    }
    const threshold = (bestT * this.range) / half;
    return { min: Math.max(this.min, -threshold), max: Math.min(this.max, threshold) };
  }
}

/** KL(P||Q) of the first `t` bins of `abs` (outliers folded into bin t-1) against its `levels`-level quantization. */
function klForThreshold(abs: Float64Array, t: number, levels: number): number {
  const p = new Float64Array(t);
  for (let i = 0; i < t; i++) p[i] = abs[i] as number;
  let outliers = 0;
  for (let i = t; i < abs.length; i++) outliers += abs[i] as number;
  p[t - 1] = (p[t - 1] as number) + outliers;
  const q = new Float64Array(t);
  const per = t / levels;
  for (let l = 0; l < levels; l++) {
    const start = Math.floor(l * per);
    const end = l === levels - 1 ? t : Math.floor((l + 1) * per);
    let sum = 0;
    let nonZero = 0;
    for (let i = start; i < end; i++) {
      sum += abs[i] as number;
      if ((abs[i] as number) > 0) nonZero++;
    }
    for (let i = start; i < end; i++) if ((abs[i] as number) > 0) q[i] = sum / nonZero;
  }
  let pSum = 0;
  let qSum = 0;
  for (let i = 0; i < t; i++) {
    pSum += p[i] as number;
    qSum += q[i] as number;
  }
  if (pSum === 0 || qSum === 0) return Number.POSITIVE_INFINITY;
  let kl = 0;
  for (let i = 0; i < t; i++) {
    const pi = (p[i] as number) / pSum;
    if (pi === 0) continue;
    const qi = (q[i] as number) / qSum;
    kl += qi === 0 ? pi * 20 : pi * Math.log(pi / qi); // smoothing: a missing bin costs a large constant
  }
  return kl;
}
