import { describe, expect, it } from 'vitest';
import { ResizeGeometry } from './geometry.js';
import { lowResToModel, lowResToOriginal, maskToLowRes } from './lowres.js';
import { createMask } from './mask.js';
import { readSafetensorsF32, referencePath } from './test-utils/fixtures.js';

describe('lowResToOriginal = SAM postprocess_masks', () => {
  it('dog case 1: low_res_masks [256,256] → masks [534,800] within the fixture tolerance', () => {
    for (const model of ['tinyvit', 'vit_mini']) {
      const t = readSafetensorsF32(referencePath(`${model}_outputs.safetensors`), [
        'dog.case1.low_res_masks',
        'dog.case1.masks',
      ]);
      const ref = t.get('dog.case1.masks')!;
      expect(ref.shape).toEqual([1, 534, 800]);
      const ours = lowResToOriginal(t.get('dog.case1.low_res_masks')!.data, new ResizeGeometry([534, 800]));
      let maxDiff = 0;
      let maxRef = 0;
      for (let i = 0; i < ref.data.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs((ours[i] as number) - (ref.data[i] as number)));
        maxRef = Math.max(maxRef, Math.abs(ref.data[i] as number));
      }
      // Measured: max |ours - ref| = 1.2e-6 (tinyvit, max|ref| 0.067) and 8.4e-7 (vit_mini, 0.118):
      // under 1% of the fixture tolerance; float32 rounding only, no sign flips.
      expect(maxDiff).toBeLessThanOrEqual(1e-4 + 1e-3 * maxRef);
      expect(maxDiff).toBeLessThan(5e-6);
    }
  });

  it('rejects a wrong-size logits buffer', () => {
    expect(() => lowResToOriginal(new Float32Array(10), new ResizeGeometry([10, 10]))).toThrow(
      /expected \[256,256\] = 65536 values, got 10/,
    );
    expect(lowResToModel(new Float32Array(256 * 256).fill(2), new ResizeGeometry([10, 10])).every((v) => v === 2)).toBe(
      true,
    );
  });
});

describe('maskToLowRes (loss target)', () => {
  it('a rectangle in a 512x512 image lands on an exact 32x32 block', () => {
    const mask = createMask(512, 512);
    for (let y = 32; y < 96; y++) for (let x = 64; x < 128; x++) mask.data[y * 512 + x] = 1;
    const low = maskToLowRes(mask, new ResizeGeometry([512, 512]));
    expect(low.length).toBe(256 * 256);
    const want = new Float32Array(256 * 256);
    for (let y = 16; y < 48; y++) want.fill(1, y * 256 + 32, y * 256 + 64);
    let mismatches = 0;
    for (let i = 0; i < want.length; i++) if (low[i] !== want[i]) mismatches++;
    expect(mismatches).toBe(0);
    expect(low.reduce((s, v) => s + v, 0)).toBe(1024);
  });

  it('a full mask of the dog size (534x800 → 684x1024) fills the top 171 rows only', () => {
    const g = new ResizeGeometry([534, 800]);
    const low = maskToLowRes(createMask(800, 534, new Uint8Array(800 * 534).fill(1)), g);
    let sum = 0;
    for (let i = 0; i < low.length; i++) sum += low[i] as number;
    expect(sum).toBe(256 * 171);
    expect(low.subarray(0, 171 * 256).every((v) => v === 1)).toBe(true);
  });

  it('soft targets keep the covered fraction (truck size: 683 rows = 170.75 low-res rows)', () => {
    const g = new ResizeGeometry([1200, 1800]);
    const soft = maskToLowRes(createMask(1800, 1200, new Uint8Array(1800 * 1200).fill(1)), g, { soft: true });
    expect(soft[169 * 256 + 5]).toBe(1);
    expect(soft[170 * 256 + 5]).toBeCloseTo(0.75, 6);
    expect(soft[171 * 256 + 5]).toBe(0);
    const hard = maskToLowRes(createMask(1800, 1200, new Uint8Array(1800 * 1200).fill(1)), g);
    expect(hard[170 * 256 + 5]).toBe(1);
  });
});
