import { rasterizePolygon } from '@samtune/datasets';
import { describe, expect, it } from 'vitest';
import { POLYGON_TOLERANCE, rleToPolygons } from './polygons.js';
import { maskToCocoRle } from './rle.js';
import { planeIou, unionOf } from './test-utils/masks.js';

/** A W x H mask with the pixels where `inside(x, y)`. */
function mask(w: number, h: number, inside: (x: number, y: number) => boolean) {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = inside(x, y) ? 1 : 0;
  return { data, width: w, height: h };
}

const iouWith = (polys: number[][], m: { data: Uint8Array; width: number; height: number }): number =>
  planeIou(
    unionOf(
      polys.map((p) => rasterizePolygon(p, m.height, m.width)),
      m.data.length,
    ),
    m.data,
  );

describe('rleToPolygons', () => {
  it('gives a rectangle as one polygon with at most 8 vertices (marching squares cuts each corner by half a pixel)', () => {
    const m = mask(20, 10, (x, y) => x >= 3 && x < 12 && y >= 2 && y < 7);
    const polys = rleToPolygons(maskToCocoRle(m));
    expect(polys).toHaveLength(1);
    const xy = polys[0]!;
    expect(xy.length / 2).toBeLessThanOrEqual(8);
    for (let i = 0; i < xy.length; i += 2) {
      expect(xy[i]).toBeGreaterThanOrEqual(3);
      expect(xy[i]).toBeLessThanOrEqual(12);
      expect(xy[i + 1]).toBeGreaterThanOrEqual(2);
      expect(xy[i + 1]).toBeLessThanOrEqual(7);
    }
    expect(iouWith(polys, m)).toBeGreaterThanOrEqual(0.9);
  });

  it('simplifies a disc to far fewer vertices while keeping IoU >= 0.97; one polygon per region', () => {
    const disc = (cx: number, cy: number, r: number) => (x: number, y: number) =>
      (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r;
    const a = disc(30, 30, 20);
    const b = disc(90, 40, 12);
    const m = mask(120, 80, (x, y) => a(x, y) || b(x, y));
    const polys = rleToPolygons(maskToCocoRle(m), POLYGON_TOLERANCE);
    expect(polys).toHaveLength(2);
    expect(polys[0]!.length / 2).toBeLessThan(60); // a traced outline has ~160 steps
    expect(iouWith(polys, m)).toBeGreaterThanOrEqual(0.97);
  });

  it('gives no polygon for an empty mask', () => {
    expect(rleToPolygons(maskToCocoRle(mask(8, 8, () => false)))).toEqual([]);
  });
});
