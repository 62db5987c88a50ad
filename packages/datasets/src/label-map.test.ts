import { describe, expect, it } from 'vitest';
import {
  componentMask,
  connectedComponents,
  indexStats,
  pngToIndexMap,
  vocColormap,
  type IndexMap,
} from './label-map.js';

const map = (rows: number[][]): IndexMap => ({
  width: rows[0]?.length ?? 0,
  height: rows.length,
  data: Int32Array.from(rows.flat()),
});

describe('VOC colour map', () => {
  it('matches the published VOC colours', () => {
    const c = vocColormap(256);
    const rgb = (i: number): number[] => Array.from(c.subarray(i * 3, i * 3 + 3));
    expect(rgb(0)).toEqual([0, 0, 0]);
    expect(rgb(1)).toEqual([128, 0, 0]);
    expect(rgb(2)).toEqual([0, 128, 0]);
    expect(rgb(15)).toEqual([192, 128, 128]); // person
    expect(rgb(20)).toEqual([0, 64, 128]); // tvmonitor
    expect(rgb(255)).toEqual([224, 224, 192]); // void
  });
});

describe('connected components (8-connectivity)', () => {
  it('joins diagonal neighbours and separates classes', () => {
    const m = map([
      [1, 0, 0, 2],
      [0, 1, 0, 2],
      [0, 0, 1, 0],
      [1, 0, 0, 0],
    ]);
    const cc = connectedComponents(m, (i) => i !== 0);
    expect(cc.map((c) => [c.index, c.box, c.area, c.seed])).toEqual([
      [1, [0, 0, 3, 3], 3, 0],
      [2, [3, 0, 4, 2], 2, 3],
      [1, [0, 3, 1, 4], 1, 12],
    ]);
    expect(Array.from(componentMask(m, 0).data)).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
  });

  it('computes per-index boxes and areas in one pass', () => {
    const s = indexStats(
      map([
        [0, 3, 3],
        [4, 0, 3],
      ]),
      (i) => i > 0,
    );
    expect([...s.entries()]).toEqual([
      [3, { box: [1, 0, 3, 2], area: 3 }],
      [4, { box: [0, 1, 1, 2], area: 1 }],
    ]);
  });
});

describe('pngToIndexMap', () => {
  it('maps RGB through colours and reports the first unknown colour', () => {
    const png = {
      width: 2,
      height: 1,
      colorType: 2 as const,
      channels: 3,
      data: Uint8Array.from([1, 2, 3, 9, 9, 9]),
      palette: undefined,
    };
    const colors = new Map([[(1 << 16) | (2 << 8) | 3, 5]]);
    expect(pngToIndexMap(png, colors)).toEqual({ ok: false, reason: 'colour (9,9,9) at (x,y)=(1,0) maps to no label' });
    colors.set((9 << 16) | (9 << 8) | 9, 0);
    const r = pngToIndexMap(png, colors);
    expect(r.ok && Array.from(r.map.data)).toEqual([5, 0]);
  });
});
