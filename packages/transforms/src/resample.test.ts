import { describe, expect, it } from 'vitest';
import { resizePlanes } from './resample.js';

describe('resizePlanes on sparse masks (zero rows skipped)', () => {
  it.each(['area', 'torch-bilinear'] as const)(
    '%s: equals resize(mask + 1) - resize(ones), so no nonzero row is lost',
    (kind) => {
      const [w, h] = [203, 157];
      const mask = new Float32Array(w * h);
      // Two blobs with empty rows between and around them.
      for (let y = 20; y < 31; y++) for (let x = 50; x < 90; x++) mask[y * w + x] = 1;
      for (let y = 120; y < 122; y++) for (let x = 3; x < 200; x++) mask[y * w + x] = 1;
      const shifted = mask.map((v) => v + 1);
      const ones = new Float32Array(w * h).fill(1);
      for (const [ow, oh] of [
        [64, 50],
        [410, 311],
      ] as const) {
        const out = resizePlanes(mask, w, h, ow, oh, kind);
        const a = resizePlanes(shifted, w, h, ow, oh, kind);
        const b = resizePlanes(ones, w, h, ow, oh, kind);
        let worst = 0;
        for (let i = 0; i < out.length; i++)
          worst = Math.max(worst, Math.abs((out[i] as number) - ((a[i] as number) - (b[i] as number))));
        expect(worst).toBeLessThan(1e-5);
        expect(out.reduce((s, v) => s + v, 0)).toBeGreaterThan(0);
      }
    },
  );
});
