/**
 * Numeric agreement rule used by the parity tests and by export verification:
 * `max|ours - ref| <= atol + rtol * max|ref|` per tensor (atol 1e-4, rtol 1e-3 by default).
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';
export interface Agreement {
  /** `max|ours - ref|`. */
  readonly maxAbsDiff: number;
  /** `max|ref|`. */
  readonly maxAbsRef: number;
  /** The allowed difference `atol + rtol * max|ref|`. */
  readonly tolerance: number;
  /** `maxAbsDiff / tolerance`: <= 1 passes. */
  readonly ratio: number;
  readonly ok: boolean;
}

export const DEFAULT_ATOL = 1e-4;
export const DEFAULT_RTOL = 1e-3;

/** Thrown by `compareArrays` when the two arrays differ in length (or shapes differ). */
export class ShapeMismatchError extends SamtuneError {
  readonly code: string = 'shape-mismatch';
  readonly kind: ErrorKind = 'input';
}

/** Measures agreement of `ours` with `ref`; NaN anywhere makes it fail. */
export function compareArrays(
  ours: ArrayLike<number>,
  ref: ArrayLike<number>,
  atol = DEFAULT_ATOL,
  rtol = DEFAULT_RTOL,
): Agreement {
  if (ours.length !== ref.length) {
    throw new ShapeMismatchError(`compareArrays(ours, ref): ours has ${ours.length} elements, ref has ${ref.length}`);
  }
  let maxAbsDiff = 0;
  let maxAbsRef = 0;
  let nan = false;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i] as number;
    const d = Math.abs((ours[i] as number) - r);
    if (Number.isNaN(d)) nan = true;
    if (d > maxAbsDiff) maxAbsDiff = d;
    const a = Math.abs(r);
    if (a > maxAbsRef) maxAbsRef = a;
  }
  const tolerance = atol + rtol * maxAbsRef;
  const ratio = nan ? Number.POSITIVE_INFINITY : maxAbsDiff / tolerance;
  return { maxAbsDiff: nan ? Number.NaN : maxAbsDiff, maxAbsRef, tolerance, ratio, ok: !nan && ratio <= 1 };
}

/** `compareArrays` that also checks shapes. */
export function compareTensors(
  ours: { shape: readonly number[]; data: ArrayLike<number> },
  ref: { shape: readonly number[]; data: ArrayLike<number> },
  atol = DEFAULT_ATOL,
  rtol = DEFAULT_RTOL,
): Agreement {
  if (ours.shape.length !== ref.shape.length || ours.shape.some((d, i) => d !== ref.shape[i])) {
    throw new ShapeMismatchError(
      `compareTensors(ours, ref): shape [${ours.shape.join(',')}] vs ref [${ref.shape.join(',')}]`,
    );
  }
  return compareArrays(ours.data, ref.data, atol, rtol);
}

/**
 * Worst agreement per output family (e.g. `low_res_masks`, `iou_predictions`, `masks`) over many
 * comparisons: what parity tests and export verification report.
 */
export class AgreementTally {
  private readonly worst = new Map<string, { ratio: number; key: string }>();

  /** Compares `ours` with `ref`, records the ratio under `family` (worst kept, NaN counts as worst), returns the agreement. */
  check(
    family: string,
    key: string,
    ours: { shape: readonly number[]; data: ArrayLike<number> },
    ref: { shape: readonly number[]; data: ArrayLike<number> },
  ): Agreement {
    const a = compareTensors(ours, ref);
    const prev = this.worst.get(family);
    if (!prev || !(a.ratio <= prev.ratio)) this.worst.set(family, { ratio: a.ratio, key });
    return a;
  }

  /** The worst ratio and where it occurred, per family. */
  entries(): [string, { ratio: number; key: string }][] {
    return [...this.worst];
  }

  /** One line per family: `<label> <family>: worst ratio <r> (<key>)`. */
  summary(label: string): string {
    return this.entries()
      .map(([f, w]) => `${label} ${f}: worst ratio ${w.ratio.toFixed(4)} (${w.key})`)
      .join('\n');
  }
}
