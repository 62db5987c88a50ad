import { describe, expect, it } from 'vitest';
import { compareArrays, compareTensors, ShapeMismatchError } from './compare.js';

describe('compareArrays', () => {
  it('applies atol + rtol * max|ref|', () => {
    const a = compareArrays([1.0, 10.0], [1.0, 10.01]);
    expect(a.maxAbsRef).toBeCloseTo(10.01, 10);
    expect(a.tolerance).toBeCloseTo(1e-4 + 1e-3 * 10.01, 12);
    expect(a.maxAbsDiff).toBeCloseTo(0.01, 10);
    expect(a.ok).toBe(true);
    expect(compareArrays([0, 0.02], [0, 0.0]).ok).toBe(false);
  });
  it('fails on NaN and names mismatched shapes', () => {
    expect(compareArrays([Number.NaN], [1]).ok).toBe(false);
    expect(() => compareTensors({ shape: [2], data: [1, 2] }, { shape: [1, 2], data: [1, 2] })).toThrow(ShapeMismatchError);
    expect(() => compareArrays([1], [1, 2])).toThrow(/ours has 1 elements, ref has 2/);
  });
});
