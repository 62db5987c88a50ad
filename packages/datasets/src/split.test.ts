import { describe, expect, it } from 'vitest';
import type { Dataset, DatasetItem } from './model.js';
import { splitDataset, SplitOptionsError } from './split.js';

const item = (id: string): DatasetItem => ({
  id,
  subset: 'default',
  imagePath: `/x/${id}.png`,
  width: 1,
  height: 1,
  instances: [],
});
const ds = (subsets: Record<string, DatasetItem[]>): Dataset => ({
  format: 't',
  root: '/x',
  labels: [],
  subsets,
  skipped: [],
});

describe('splitDataset', () => {
  const ten = Array.from({ length: 10 }, (_, i) => item(`i${i}`));

  it('splits a single subset by seed: deterministic, disjoint, complete, sized by rounding', () => {
    const a = splitDataset(ds({ default: ten }), { seed: 7, val: 0.2, test: 0.1 });
    const b = splitDataset(ds({ default: [...ten].reverse() }), { seed: 7, val: 0.2, test: 0.1 });
    expect(Object.fromEntries(Object.entries(a.subsets).map(([k, v]) => [k, v.length]))).toEqual({
      train: 7,
      val: 2,
      test: 1,
    });
    expect(a.subsets).toEqual(b.subsets); // input order does not matter
    const ids = Object.values(a.subsets)
      .flat()
      .map((i) => i.id)
      .sort();
    expect(ids).toEqual(ten.map((i) => i.id).sort());
    expect(a.subsets.val?.every((i) => i.subset === 'val')).toBe(true);
    const c = splitDataset(ds({ default: ten }), { seed: 8, val: 0.2, test: 0.1 });
    expect(c.subsets.val?.map((i) => i.id)).not.toEqual(a.subsets.val?.map((i) => i.id));
  });

  it('keeps datasets that already have several subsets, and validates fractions', () => {
    const two = ds({ train: [item('a')], val: [item('b')] });
    expect(splitDataset(two)).toBe(two);
    expect(() => splitDataset(ds({ default: ten }), { val: 0.6, test: 0.4 })).toThrow(SplitOptionsError);
    expect(Object.keys(splitDataset(ds({ default: ten })).subsets)).toEqual(['train', 'val']);
  });

  it('keeps one validation and one training image of a tiny dataset (issue 23)', () => {
    const sizes = (d: Dataset): Record<string, number> =>
      Object.fromEntries(Object.entries(d.subsets).map(([k, v]) => [k, v.length]));
    expect(sizes(splitDataset(ds({ default: [item('a'), item('b')] }), { val: 0.2 }))).toEqual({ train: 1, val: 1 });
    expect(sizes(splitDataset(ds({ default: [item('a'), item('b')] }), { val: 0.9 }))).toEqual({ train: 1, val: 1 });
    expect(sizes(splitDataset(ds({ default: [item('a')] }), { val: 0.2 }))).toEqual({ train: 1 });
    expect(sizes(splitDataset(ds({ default: ten }), { val: 0.2 }))).toEqual({ train: 8, val: 2 });
  });
});
