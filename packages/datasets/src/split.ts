/**
 * Seeded train/val/test split for datasets that come as a single subset. Items are ordered by id,
 * shuffled with a seeded generator (`createRng`, mulberry32), then cut: the first `round(n*test)`
 * go to `test`, the next `round(n*val)` to `val`, the rest to `train`. With `val > 0` and at least two
 * images left after `test`, `val` and `train` keep one image each (2 images at val 0.2: 1 / 1).
 * Same seed and items -> same split.
 */
import { createRng } from '@samtune/transforms';
import type { Dataset, DatasetItem } from './model.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Fractions in [0, 1) with `val + test < 1`; defaults: seed 0, val 0.2, test 0. */
export interface SplitOptions {
  readonly seed?: number;
  readonly val?: number;
  readonly test?: number;
}

/** Thrown for fractions outside [0, 1) or summing to 1 or more. */
export class SplitOptionsError extends SamtuneError {
  readonly code: string = 'split-options';
  readonly kind: ErrorKind = 'input';
}

/**
 * When `dataset` has exactly one subset, returns a copy whose items are split into `train`, `val`
 * and (if `test > 0`) `test`; empty subsets are left out. Datasets with 0 or >= 2 subsets are
 * returned unchanged (their own split wins).
 */
export function splitDataset(dataset: Dataset, options: SplitOptions = {}): Dataset {
  const { seed = 0, val = 0.2, test = 0 } = options;
  if (!(val >= 0 && val < 1 && test >= 0 && test < 1 && val + test < 1)) {
    throw new SplitOptionsError(
      `splitDataset(options): expected val, test in [0, 1) with val + test < 1, got val=${val}, test=${test}`,
    );
  }
  const names = Object.keys(dataset.subsets);
  if (names.length !== 1) return dataset;
  const items = [...(dataset.subsets[names[0] as string] ?? [])].sort((a, b) =>
    a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
  const rng = createRng(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [items[i], items[j]] = [items[j] as DatasetItem, items[i] as DatasetItem];
  }
  const nTest = Math.round(items.length * test);
  const rest = items.length - nTest;
  const nVal =
    val > 0 && rest >= 2
      ? Math.min(rest - 1, Math.max(1, Math.round(items.length * val)))
      : Math.round(items.length * val);
  const pick = (from: number, to: number, subset: string): DatasetItem[] =>
    items.slice(from, to).map((it) => ({ ...it, subset }));
  const subsets: Record<string, DatasetItem[]> = {};
  const train = pick(nTest + nVal, items.length, 'train');
  const valItems = pick(nTest, nTest + nVal, 'val');
  const testItems = pick(0, nTest, 'test');
  if (train.length) subsets.train = train;
  if (valItems.length) subsets.val = valItems;
  if (testItems.length) subsets.test = testItems;
  return { ...dataset, subsets };
}
