import { describe, expect, it } from 'vitest';
import { fromHalfBits, toFloat16, toHalfBits } from './float16.js';

describe('float16', () => {
  it('encodes known values bit-exactly', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff], // largest finite
      [65520, 0x7c00], // rounds to Inf
      [1e6, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -14, 0x0400], // smallest normal
      [1 + 2 ** -11, 0x3c00], // tie: to even (down)
      [1 + 3 * 2 ** -11, 0x3c02], // tie: to even (up)
      [0.1, 0x2e66],
    ];
    for (const [v, bits] of cases) expect([v, toHalfBits(v)]).toEqual([v, bits]);
    expect(Number.isNaN(fromHalfBits(toHalfBits(NaN)))).toBe(true);
  });

  it('round-trips within half precision (relative error <= 2^-11 in the normal range)', () => {
    const data = Float32Array.from(
      { length: 4096 },
      (_, i) => Math.sin(i * 12.9898) * 43758.5453 * 2 ** ((i % 20) - 14),
    );
    const back = Array.from(toFloat16(data), fromHalfBits);
    for (let i = 0; i < data.length; i++) {
      const v = data[i] as number;
      if (Math.abs(v) < 2 ** -14 || Math.abs(v) > 65504) continue;
      expect(Math.abs((back[i] as number) - v) / Math.abs(v)).toBeLessThanOrEqual(2 ** -11);
    }
    for (let h = 0; h < 0x7c00; h += 7) expect(toHalfBits(fromHalfBits(h))).toBe(h); // every finite half is exact
  });
});
