import { describe, expect, it } from 'vitest';
import { selectMaskIndex, useMultimask } from './prompt-policy.js';

describe('prompt policy', () => {
  it('asks for three masks only for a single point without a box', () => {
    expect(useMultimask({ hasBox: false, numPoints: 1 })).toBe(true);
    expect(useMultimask({ hasBox: true, numPoints: 0 })).toBe(false);
    expect(useMultimask({ hasBox: true, numPoints: 1 })).toBe(false);
    expect(useMultimask({ hasBox: false, numPoints: 2 })).toBe(false);
  });

  it('keeps the output with the highest predicted IoU (first on ties)', () => {
    expect(selectMaskIndex([0.2, 0.9, 0.5])).toBe(1);
    expect(selectMaskIndex([0.7, 0.7, 0.1])).toBe(0);
    expect(selectMaskIndex(Float32Array.from([0.3]))).toBe(0);
  });
});
