/**
 * The gate of a fine-tuned version: its held-out numbers against the serving version's on the same
 * held-out data (the trainer's zero-shot validation is the serving decoder, its best epoch the
 * candidate). A candidate is activated only if it is not worse on pixel F1 and on clicks-to-quality
 * (NoC@85 and NoC@90, fewer is better; IoU after 1, 3 and 5 clicks, since NoC saturates at the click
 * limit), each within its tolerance; a metric that one side lacks
 * (clicks not measured, no instances) is left out of the decision and named in the reason.
 */
import type { HeldOut, VersionMetrics } from './versions.js';

/** What the gate reads of a validation result (the trainer's `EvalResult`). */
export interface HeldOutResult {
  readonly f1: number;
  readonly instances: number;
  readonly clicks?: {
    readonly noc85: number;
    readonly noc90: number;
    readonly iouAt1: number;
    readonly iouAt3: number;
    readonly iouAt5: number;
  };
}

/** How much worse a candidate may be and still pass (default 0: not worse at all). */
export interface GateTolerance {
  /** Largest F1 drop allowed. */
  readonly f1?: number;
  /** Largest NoC increase allowed (clicks). */
  readonly noc?: number;
  /** Largest drop of the IoU after 1, 3 or 5 clicks allowed. */
  readonly iou?: number;
}

/** The gate's decision and its reason in one sentence. */
export interface GateDecision {
  readonly accept: boolean;
  readonly reason: string;
}

const finite = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : v);

/** The version numbers of a validation result (with or without clicks-to-quality). */
export function versionMetrics(r: HeldOutResult): VersionMetrics {
  return {
    f1: finite(r.f1),
    noc85: finite(r.clicks?.noc85),
    noc90: finite(r.clicks?.noc90),
    iouAt1: finite(r.clicks?.iouAt1),
    iouAt3: finite(r.clicks?.iouAt3),
    iouAt5: finite(r.clicks?.iouAt5),
    prompts: r.instances,
  };
}

const fmt = (v: number): string => (Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(4));

/** How the gate's reason names the held-out set: the seeded split (`the held-out labels`) or the `--val` file with its size. */
export function heldOutName(h: HeldOut | undefined): string {
  return h?.source === 'val'
    ? `the --val set ${h.labels ?? ''} (${h.images} images, ${h.instances} instances)`
    : 'the held-out labels';
}

/**
 * Compares `candidate` with `baseline` (the serving version `serving` on the same data, `heldOut`:
 * which data, named in the reason).
 */
export function gate(
  candidate: VersionMetrics,
  baseline: VersionMetrics,
  serving: string,
  tolerance: GateTolerance = {},
  heldOut?: HeldOut,
): GateDecision {
  const on = heldOutName(heldOut);
  const checks: { name: string; higherBetter: boolean; tol: number; c: number | null; b: number | null }[] = [
    { name: 'F1', higherBetter: true, tol: tolerance.f1 ?? 0, c: candidate.f1, b: baseline.f1 },
    { name: 'NoC@85', higherBetter: false, tol: tolerance.noc ?? 0, c: candidate.noc85, b: baseline.noc85 },
    { name: 'NoC@90', higherBetter: false, tol: tolerance.noc ?? 0, c: candidate.noc90, b: baseline.noc90 },
    // NoC saturates at the click limit; the IoU after 1, 3 and 5 clicks still tells a worse decoder
    { name: 'IoU@1', higherBetter: true, tol: tolerance.iou ?? 0, c: candidate.iouAt1, b: baseline.iouAt1 },
    { name: 'IoU@3', higherBetter: true, tol: tolerance.iou ?? 0, c: candidate.iouAt3, b: baseline.iouAt3 },
    { name: 'IoU@5', higherBetter: true, tol: tolerance.iou ?? 0, c: candidate.iouAt5, b: baseline.iouAt5 },
  ];
  const worse: string[] = [];
  const same: string[] = [];
  const missing: string[] = [];
  for (const k of checks) {
    if (k.c === null || k.b === null) {
      missing.push(k.name);
      continue;
    }
    const ok = k.higherBetter ? k.c >= k.b - k.tol : k.c <= k.b + k.tol;
    (ok ? same : worse).push(`${k.name} ${fmt(k.c)} vs ${fmt(k.b)}`);
  }
  const unmeasured = missing.length ? `; not measured: ${missing.join(', ')}` : '';
  if (candidate.f1 === null)
    return { accept: false, reason: `rejected: no held-out F1 for the candidate${unmeasured}` };
  if (worse.length > 0)
    return {
      accept: false,
      reason: `rejected: worse than the serving version ${serving} on ${on} (${worse.join(', ')})${same.length ? `; not worse: ${same.join(', ')}` : ''}${unmeasured}`,
    };
  return {
    accept: true,
    reason: `accepted: not worse than the serving version ${serving} on ${on} (${same.join(', ')})${unmeasured}`,
  };
}
