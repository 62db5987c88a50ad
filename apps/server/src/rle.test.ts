import { createMask } from '@samtune/transforms';
import { describe, expect, it } from 'vitest';
import { cocoRleToMask, maskToCocoRle, RleError, rleArea, rleBbox, rleProblem } from './rle.js';

// (H,W) = (3,4), row-major:
// 0 1 1 0
// 0 1 0 0
// 0 0 0 1
// Columns top to bottom: [0,0,0] [1,1,0] [1,0,0] [0,0,1] -> runs 0x3, 1x2, 0x1, 1x1, 0x4, 1x1.
const MASK = createMask(4, 3, [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1]);

describe('COCO uncompressed RLE', () => {
  it('encodes column-major runs starting with background, and decodes back', () => {
    const rle = maskToCocoRle(MASK);
    expect(rle).toEqual({ size: [3, 4], counts: [3, 2, 1, 1, 4, 1] });
    expect(Array.from(cocoRleToMask(rle).data)).toEqual(Array.from(MASK.data));
    expect(rleArea(rle)).toBe(4);
    // x 1..3, y 0..2
    expect(rleBbox(rle)).toEqual([1, 0, 3, 3]);
  });

  it('starts with a 0-length run when the first pixel is foreground, and handles empty/full masks', () => {
    expect(maskToCocoRle(createMask(2, 2, [1, 0, 0, 0])).counts).toEqual([0, 1, 3]);
    const empty = maskToCocoRle(createMask(5, 2));
    expect(empty.counts).toEqual([10]);
    expect(rleBbox(empty)).toBeUndefined();
    const full = maskToCocoRle(createMask(2, 3, [1, 1, 1, 1, 1, 1]));
    expect(full.counts).toEqual([0, 6]);
    expect(rleBbox(full)).toEqual([0, 0, 2, 3]);
  });

  it('gives the full column height to the box when a run crosses a column boundary', () => {
    // (H,W)=(4,2): one run from (x=0,y=3) to (x=1,y=0): pixels index 3 and 4.
    const rle = { size: [4, 2] as const, counts: [3, 2, 3] };
    expect(rleBbox(rle)).toEqual([0, 0, 2, 4]);
    expect(Array.from(cocoRleToMask(rle).data)).toEqual([0, 1, 0, 0, 0, 0, 1, 0]);
  });

  it('names the problem of invalid counts', () => {
    expect(rleProblem({ size: [3, 4], counts: [3, 2] })).toBe(
      'counts: expected counts to sum to h*w = 3*4 = 12, got 5',
    );
    expect(rleProblem({ size: [3, 4], counts: [3, -1, 10] })).toMatch(
      /^counts: expected non-negative integer counts, got -1 at index 1/,
    );
    expect(rleProblem({ size: [0, 4], counts: [] })).toMatch(/^size: expected \[H,W\] with positive integers/);
    expect(() => cocoRleToMask({ size: [3, 4], counts: [1.5, 10.5] })).toThrow(RleError);
  });
});
