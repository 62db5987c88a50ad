import { describe, expect, it } from 'vitest';
import { AgreementTally, compareArrays, compareTensors, ShapeMismatchError } from './compare.js';

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
    expect(() => compareTensors({ shape: [2], data: [1, 2] }, { shape: [1, 2], data: [1, 2] })).toThrow(
      ShapeMismatchError,
    );
    expect(() => compareArrays([1], [1, 2])).toThrow(/ours has 1 elements, ref has 2/);
  });
});

describe('AgreementTally', () => {
  it('keeps the worst ratio per family, NaN counting as worst', () => {
    const t = new AgreementTally();
    t.check('masks', 'a', { shape: [1], data: [1.0] }, { shape: [1], data: [1.0] });
    t.check('masks', 'b', { shape: [1], data: [1.0005] }, { shape: [1], data: [1.0] });
    t.check('iou', 'c', { shape: [1], data: [Number.NaN] }, { shape: [1], data: [0.5] });
    const e = Object.fromEntries(t.entries());
    expect(e.masks!.key).toBe('b');
    expect(e.masks!.ratio).toBeCloseTo(0.0005 / 0.0011, 3);
    expect(e.iou!.ratio).toBe(Number.POSITIVE_INFINITY);
    expect(t.summary('tinyvit')).toContain('tinyvit masks: worst ratio 0.4545 (b)');
  });
});
