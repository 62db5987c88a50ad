import { describe, expect, it } from 'vitest';
import { readImage } from './image-io.js';
import { normalizeAndPad } from './normalize.js';
import { preprocessImage, SAM_PIXEL_MEAN, SAM_PIXEL_STD } from './preprocess.js';
import { resizePil } from './resample.js';
import { getPreprocessShape, resizeLongestSide } from './resize.js';
import { referencePath } from './test-utils/fixtures.js';

describe('getPreprocessShape', () => {
  it('follows ResizeLongestSide.get_preprocess_shape (the fixture manifest sizes)', () => {
    expect(getPreprocessShape(534, 800)).toEqual([684, 1024]);
    expect(getPreprocessShape(1200, 1800)).toEqual([683, 1024]);
    expect(getPreprocessShape(800, 534)).toEqual([1024, 684]);
    expect(getPreprocessShape(1024, 1024)).toEqual([1024, 1024]);
    expect(getPreprocessShape(3, 5)).toEqual([614, 1024]); // 3 * 204.8 + 0.5 = 614.9 → 614
    expect(getPreprocessShape(1536, 2048)).toEqual([768, 1024]);
    expect(() => getPreprocessShape(0, 5)).toThrow(/oldH.*positive integer, got 0/);
  });
});

describe('resizeLongestSide = PIL bilinear (official SAM preprocessing)', () => {
  for (const stem of ['dog', 'truck']) {
    it(`${stem}.jpg resized equals ${stem}_resized.png exactly`, async () => {
      const img = await readImage(referencePath(`${stem}.jpg`));
      const ref = await readImage(referencePath(`${stem}_resized.png`));
      const out = resizeLongestSide(img);
      expect([out.height, out.width]).toEqual([ref.height, ref.width]);
      let max = 0;
      let sum = 0;
      for (let i = 0; i < ref.data.length; i++) {
        const d = Math.abs((out.data[i] as number) - (ref.data[i] as number));
        if (d > max) max = d;
        sum += d;
      }
      // Measured: max 0, mean 0 (sharp's JPEG decode and our resample match PIL bit for bit).
      expect({ max, mean: sum / ref.data.length }).toEqual({ max: 0, mean: 0 });
    });
  }

  it('same size is a copy; 1-channel images work', () => {
    const img = { width: 3, height: 2, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) };
    const same = resizePil(img, 3, 2);
    expect([...same.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(same.data).not.toBe(img.data);
    // Halving a 2x2 gray block averages it (triangle support 2 px, all four weights equal).
    expect([...resizePil({ width: 2, height: 2, data: Uint8Array.from([0, 100, 50, 250]) }, 1, 1).data]).toEqual([100]);
  });
});

describe('preprocessImage', () => {
  it('dog.jpg: resized + normalised (float32 like torch) + zero padded; geometry from the manifest', async () => {
    const img = await readImage(referencePath('dog.jpg'));
    const ref = await readImage(referencePath('dog_resized.png'));
    const pre = preprocessImage(img);
    expect(pre.inputSize).toEqual([684, 1024]);
    expect(pre.originalSize).toEqual([534, 800]);
    expect(pre.tensor.length).toBe(3 * 1024 * 1024);
    const want = normalizeAndPad(ref, SAM_PIXEL_MEAN, SAM_PIXEL_STD);
    let mismatches = 0;
    for (let i = 0; i < want.length; i++) if (pre.tensor[i] !== want[i]) mismatches++;
    expect(mismatches).toBe(0);
    // Pixel (x=10, y=20), channel G: (v - 116.28) / 57.12 in float32; padding rows are exactly 0.
    const v = ref.data[(20 * 1024 + 10) * 3 + 1] as number;
    expect(pre.tensor[1024 * 1024 + 20 * 1024 + 10]).toBe(
      Math.fround(Math.fround(v - Math.fround(116.28)) / Math.fround(57.12)),
    );
    expect(pre.tensor.subarray(684 * 1024, 1024 * 1024).every((x) => x === 0)).toBe(true);
    expect(pre.tensor.subarray(2 * 1024 * 1024 + 684 * 1024, 3 * 1024 * 1024).every((x) => x === 0)).toBe(true);
  });
});
