import { describe, expect, it } from 'vitest';
import {
  checkRleCounts,
  decodeRleString,
  encodeRleString,
  maskToRle,
  rleBounds,
  rleToMask,
  RleFormatError,
} from './rle.js';

// Reference pairs of counts and pycocotools strings (as published in cocotools-rs' tests, made with pycocotools).
const VECTORS: [number[], string][] = [
  [[5, 2, 2, 2, 5], '52203'],
  [[6, 1, 40, 4, 5, 4, 5, 4, 21], '61X13mN000`0'],
  [[245, 5, 35, 5, 35, 5, 35, 5, 35, 5, 1190], 'e75S10000000ST1'],
];

describe('COCO RLE strings', () => {
  it('encodes and decodes the pycocotools reference strings', () => {
    for (const [counts, s] of VECTORS) {
      expect(encodeRleString(counts)).toBe(s);
      expect(decodeRleString(s)).toEqual(counts);
    }
  });

  it('round-trips large and decreasing runs (negative deltas)', () => {
    const counts = [0, 3145728, 0, 1, 70000, 2, 5, 1_000_000, 3];
    expect(decodeRleString(encodeRleString(counts))).toEqual(counts);
  });

  it('rejects characters outside 48..111 and an unterminated value', () => {
    expect(() => decodeRleString('5~')).toThrow(RleFormatError);
    expect(() => decodeRleString('P')).toThrow(/expected another character/);
  });
});

describe('RLE <-> mask (column-major runs, row-major masks)', () => {
  it('decodes a 7x7 box: columns 2-4, rows 1-5', () => {
    const m = rleToMask([15, 5, 2, 5, 2, 5, 15], 7, 7);
    const rows = Array.from({ length: 7 }, (_, y) => Array.from(m.data.subarray(y * 7, y * 7 + 7)).join(''));
    expect(rows).toEqual(['0000000', '0011100', '0011100', '0011100', '0011100', '0011100', '0000000']);
    expect(rleBounds([15, 5, 2, 5, 2, 5, 15], 7)).toEqual([2, 1, 5, 6]);
    expect(maskToRle(m)).toEqual([15, 5, 2, 5, 2, 5, 15]);
  });

  it('encodes a horizontal line on (H,W)=(4,5) like pycocotools', () => {
    const data = new Uint8Array(20);
    data.fill(1, 5, 10);
    expect(maskToRle({ width: 5, height: 4, data })).toEqual([1, 1, 3, 1, 3, 1, 3, 1, 3, 1, 2]);
    expect(rleBounds([1, 1, 3, 1, 3, 1, 3, 1, 3, 1, 2], 4)).toEqual([0, 1, 5, 2]);
  });

  it('bounds a run that wraps to the next column as full height, and an empty mask as undefined', () => {
    expect(rleBounds([2, 3, 7], 3)).toEqual([0, 0, 2, 3]);
    expect(rleBounds([12], 3)).toBeUndefined();
  });

  it('checks counts', () => {
    expect(checkRleCounts([5, 7], 3, 4)).toBeUndefined();
    expect(checkRleCounts([5, 6], 3, 4)).toBe('expected counts to sum to h*w = 3*4 = 12, got 11');
    expect(checkRleCounts([5, -1, 8], 3, 4)).toBe('expected non-negative integer counts, got -1 at index 1');
    expect(checkRleCounts([5, 1.5, 5.5], 3, 4)).toMatch(/got 1.5 at index 1/);
  });
});
