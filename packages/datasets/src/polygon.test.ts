import { describe, expect, it } from 'vitest';
import {
  clipPolygonToRect,
  polygonBounds,
  PolygonFormatError,
  rasterizePolygon,
  rasterizePolygonCenters,
} from './polygon.js';

const rows = (m: Uint8Array, w: number): string[] =>
  Array.from({ length: m.length / w }, (_, y) => Array.from(m.subarray(y * w, y * w + w)).join(''));
const ones = (m: Uint8Array): number => m.reduce((n, v) => n + v, 0);

describe('rasterizePolygon (pycocotools rule)', () => {
  it('fills an integer square exactly: pixels whose centres are inside', () => {
    expect(ones(rasterizePolygon([0, 0, 10, 0, 10, 10, 0, 10], 20, 20))).toBe(100);
    expect(rows(rasterizePolygon([1, 1, 3, 1, 3, 2, 1, 2], 3, 4), 4)).toEqual(['0000', '0110', '0000']);
  });

  it('leaves pixels whose centre is exactly on the hypotenuse out (triangle of legs 4: 6 pixels)', () => {
    // Centres (x+0.5, y+0.5) with x+y <= 2 are inside; x+y = 3 lies on the edge and is excluded.
    expect(rows(rasterizePolygon([0, 0, 4, 0, 0, 4], 4, 4), 4)).toEqual(['1110', '1100', '1000', '0000']);
    expect(rows(rasterizePolygonCenters([0, 0, 4, 0, 0, 4], 4, 4), 4)).toEqual(['1110', '1100', '1000', '0000']);
  });

  it('snaps vertices to the 1/5 grid (trunc(5v + 0.5) / 5), unlike exact centre sampling', () => {
    // Column 1's centre is x = 1.5. An edge at 1.45 snaps to 1.4 -> column 1 out (both rules).
    expect(rows(rasterizePolygon([0, 0, 1.45, 0, 1.45, 1, 0, 1], 1, 3), 3)).toEqual(['100']);
    expect(rows(rasterizePolygonCenters([0, 0, 1.45, 0, 1.45, 1, 0, 1], 1, 3), 3)).toEqual(['100']);
    // 1.55 snaps to 1.6 -> column 1 in (both rules).
    expect(rows(rasterizePolygon([0, 0, 1.55, 0, 1.55, 1, 0, 1], 1, 3), 3)).toEqual(['110']);
    // Exactly 1.5 snaps to 1.6 (trunc(8.0) = 8): in for pycocotools, out for exact centres (on the edge).
    expect(rows(rasterizePolygon([0, 0, 1.5, 0, 1.5, 1, 0, 1], 1, 3), 3)).toEqual(['110']);
    expect(rows(rasterizePolygonCenters([0, 0, 1.5, 0, 1.5, 1, 0, 1], 1, 3), 3)).toEqual(['100']);
    // 1.499 snaps to 1.4 (trunc(7.995) = 7): out for both.
    expect(ones(rasterizePolygon([0, 0, 1.499, 0, 1.499, 1, 0, 1], 1, 3))).toBe(1);
  });

  it('unites several polygons drawn into the same buffer, and clips to the image', () => {
    const out = new Uint8Array(12);
    rasterizePolygon([0, 0, 1, 0, 1, 1, 0, 1], 3, 4, out);
    rasterizePolygon([2, 1, 6, 1, 6, 5, 2, 5], 3, 4, out);
    expect(rows(out, 4)).toEqual(['1000', '0011', '0011']);
  });

  it('ignores repeated vertices and follows the even-odd rule for self-intersections', () => {
    expect(ones(rasterizePolygon([0, 0, 0, 0, 2, 0, 2, 2, 2, 2, 0, 2], 2, 2))).toBe(4);
    // Bow-tie (0,0)-(4,4)-(4,0)-(0,4): left and right triangles meeting at (2,2). Column 0 (x=0.5)
    // spans y in [0.5, 3.5) -> rows 0..2; column 1 (x=1.5) spans [1.5, 2.5) -> row 1; mirrored right.
    expect(rows(rasterizePolygon([0, 0, 4, 4, 4, 0, 0, 4], 4, 4), 4)).toEqual(['1001', '1111', '1001', '0000']);
  });

  it('rejects polygons that are not polygons', () => {
    expect(() => rasterizePolygon([0, 0, 1, 1], 2, 2)).toThrow(PolygonFormatError);
    expect(() => rasterizePolygon([0, 0, 1, 1, 2], 2, 2)).toThrow(/even number >= 6/);
    expect(() => rasterizePolygon([0, 0, 1, Number.NaN, 2, 2], 2, 2)).toThrow(/finite/);
    expect(() => rasterizePolygon([0, 0, 1, 0, 1, 1], 0, 2)).toThrow(/positive integers/);
  });

  it('computes bounds over several polygons', () => {
    expect(
      polygonBounds([
        [1, 2, 3, 0.5, 2, 4],
        [0, 3, 1, 1, 1, 3],
      ]),
    ).toEqual([0, 0.5, 3, 4]);
  });

  it('clips huge coordinates before walking the outline (2e7 and 4.3e8 px: bounded time and memory)', () => {
    // A triangle far larger than the image covers it; one far away covers nothing. Unclipped, the
    // 4.3e8 one would need a 2e9-element walk (RangeError), the 2e7 one ~3.8 GB.
    for (const big of [2e7, 4.3e8]) {
      expect(ones(rasterizePolygon([-big, -big, big, -big, 0, big], 30, 40))).toBe(1200);
      expect(ones(rasterizePolygon([big, big, big + 5, big, big, big + 5], 30, 40))).toBe(0);
      // a square from inside to far right: the pixels inside are those of the square clipped by hand
      expect(rows(rasterizePolygon([1, 1, big, 1, big, 2, 1, 2], 3, 4), 4)).toEqual(['0000', '0111', '0000']);
    }
  });

  it('clipping keeps the interior inside the image (random polygons, vs the same polygon unclipped)', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let worst = 0;
    for (let k = 0; k < 100; k++) {
      const xy = Array.from({ length: 12 }, () => Math.round(rnd() * 150)); // up to 150 px: clipped at 32
      const clipped = rasterizePolygon(xy, 16, 16);
      const whole = rasterizePolygon(xy, 160, 160); // a canvas that holds the polygon: never clipped
      let diff = 0;
      for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) diff += +(whole[y * 160 + x] !== clipped[y * 16 + x]);
      worst = Math.max(worst, diff);
    }
    // Pixels whose centre lies on an edge may fall the other way where a clip point was snapped to
    // the 1/5 grid, and pycocotools' own rule differs between a crop and the whole canvas there.
    expect(worst).toBeLessThanOrEqual(2);
    expect(clipPolygonToRect([-5, 1, 5, 1, 5, 2], 0, 0, 3, 3)).toEqual([3, 1.8, 0, 1.5, 0, 1, 3, 1]);
  });
});
