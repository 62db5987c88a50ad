import { describe, expect, it } from 'vitest';
import { createMask, hasForeground, logitsToMask, MaskShapeError, maskArea, thresholdMask } from './mask.js';

describe('mask thresholds', () => {
  it('logitsToMask is strict (SAM: logit > 0); thresholdMask is inclusive', () => {
    const v = [-1, 0, 1e-7, 2];
    expect(Array.from(logitsToMask(v, 2, 2).data)).toEqual([0, 0, 1, 1]);
    expect(Array.from(thresholdMask(v, 2, 2, 0).data)).toEqual([0, 1, 1, 1]);
    expect(maskArea(logitsToMask(v, 2, 2, 1))).toBe(1);
    expect(() => logitsToMask(v, 3, 2)).toThrow(MaskShapeError);
    expect(() => logitsToMask(v, 3, 2)).toThrow(/expected length H\*W = 2\*3 = 6, got 4/);
  });
});

describe('hasForeground', () => {
  it('finds the one nonzero pixel anywhere, and none in an empty mask', () => {
    const m = createMask(5, 4);
    expect(hasForeground(m)).toBe(false);
    m.data[19] = 255;
    expect(hasForeground(m)).toBe(true);
  });
});
