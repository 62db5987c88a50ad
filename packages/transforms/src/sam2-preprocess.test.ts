import { describe, expect, it } from 'vitest';
import { ResizeGeometry } from './geometry.js';
import { lowResToOriginal } from './lowres.js';
import { resizePlanes } from './resample.js';
import { SAM2_MEAN, SAM2_STD, preprocessImageSam2 } from './sam2-preprocess.js';
import { axisWeights } from './weights.js';
import { readSafetensorsF32 } from './test-utils/fixtures.js';
import { sharedPath } from '@samtune/test-fixtures';

describe("axisWeights('torch-bilinear-aa')", () => {
  it('equals torch-bilinear on an axis that is enlarged', () => {
    const aa = resizePlanes(
      Float32Array.from({ length: 7 * 5 }, (_, i) => Math.sin(i)),
      7,
      5,
      19,
      13,
      'torch-bilinear-aa',
    );
    const plain = resizePlanes(
      Float32Array.from({ length: 7 * 5 }, (_, i) => Math.sin(i)),
      7,
      5,
      19,
      13,
      'torch-bilinear',
    );
    for (let i = 0; i < aa.length; i++) expect(aa[i]).toBeCloseTo(plain[i]!, 6);
  });

  it('widens the triangle when shrinking: x2 down reads 4 pixels with 1/8, 3/8, 3/8, 1/8', () => {
    const w = axisWeights('torch-bilinear-aa', 8, 4);
    expect(w.start[1]).toBe(1);
    expect(Array.from(w.w.slice(w.ksize, w.ksize + 4))).toEqual([0.125, 0.375, 0.375, 0.125]);
    // torch-bilinear (no antialias) reads only the 2 centre pixels
    expect(axisWeights('torch-bilinear', 8, 4).count[1]).toBe(2);
  });
});

describe('preprocessImageSam2', () => {
  it('stretches to 1024x1024 and normalises v/255 with the ImageNet mean/std', () => {
    const img = { width: 40, height: 10, data: new Uint8Array(40 * 10 * 3).fill(200) };
    const { tensor, inputSize, originalSize, geometry } = preprocessImageSam2(img);
    expect(tensor.length).toBe(3 * 1024 * 1024);
    expect(inputSize).toEqual([1024, 1024]);
    expect(originalSize).toEqual([10, 40]);
    for (let c = 0; c < 3; c++) {
      const expected = (200 / 255 - SAM2_MEAN[c]!) / SAM2_STD[c]!;
      expect(tensor[c * 1024 * 1024]).toBeCloseTo(expected, 5);
      expect(tensor[c * 1024 * 1024 + 1024 * 1024 - 1]).toBeCloseTo(expected, 5); // no padding
    }
    expect(geometry.resize).toBe('stretch');
  });
});

describe("ResizeGeometry with resize: 'stretch' (SAM 2.1)", () => {
  const g = new ResizeGeometry([534, 800], 1024, { resize: 'stretch' });

  it('scales prompts by 1024/W and 1024/H (two scales)', () => {
    expect(g.inputSize).toEqual([1024, 1024]);
    expect(g.scaleX).toBeCloseTo(1.28, 12);
    expect(g.scaleY).toBeCloseTo(1024 / 534, 12);
    expect(g.pointToModel([400, 293.7])).toEqual([400 * 1.28, (293.7 * 1024) / 534]);
    expect(Array.from(g.boxesToModel([160, 133.5, 560, 480.6]))).toEqual(
      Array.from(Float32Array.from([160 * 1.28, (133.5 * 1024) / 534, 560 * 1.28, (480.6 * 1024) / 534])),
    );
  });

  it('survives JSON; older JSON without resize is longest-side', () => {
    expect(ResizeGeometry.fromJSON(JSON.parse(JSON.stringify(g)))).toEqual(g);
    const { resize: _drop, ...old } = new ResizeGeometry([534, 800]).toJSON();
    expect(ResizeGeometry.fromJSON(old).resize).toBe('longest-side');
  });

  it('maps low-res logits straight to (H,W): one bilinear pass, no crop', () => {
    const logits = Float32Array.from({ length: 256 * 256 }, (_, i) => Math.cos(i / 97));
    const out = lowResToOriginal(logits, g);
    expect(out).toEqual(resizePlanes(logits, 256, 256, 800, 534, 'torch-bilinear'));
    expect(out).not.toEqual(lowResToOriginal(logits, new ResizeGeometry([534, 800])));
  });

  it('dog case 1 (SAM 2.1 fixture): low_res_masks [256,256] -> masks [534,800] within the fixture tolerance', () => {
    const file = sharedPath('fixtures/sam2-reference/hiera_mini_outputs.safetensors');
    const t = readSafetensorsF32(file, ['dog.case1.low_res_masks', 'dog.case1.masks']);
    const ref = t.get('dog.case1.masks')!;
    expect(ref.shape).toEqual([1, 534, 800]);
    const ours = lowResToOriginal(t.get('dog.case1.low_res_masks')!.data, g);
    let maxDiff = 0;
    let maxRef = 0;
    for (let i = 0; i < ref.data.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - ref.data[i]!));
      maxRef = Math.max(maxRef, Math.abs(ref.data[i]!));
    }
    console.log(`sam2 dog case1 masks: max|diff| ${maxDiff.toExponential(3)}, max|ref| ${maxRef.toFixed(3)}`);
    expect(maxDiff).toBeLessThanOrEqual(1e-4 + 1e-3 * maxRef);
  });
});
