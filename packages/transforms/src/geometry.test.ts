import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ResizeGeometry } from './geometry.js';
import { distanceToBackground } from './distance.js';
import { createMask, cropPadPlane, type BinaryMask } from './mask.js';
import { createRng } from './rng.js';
import { readSafetensorsF32, referencePath } from './test-utils/fixtures.js';

/** (H,W): portrait, landscape, tiny, exactly 1024, 1024 long side, larger than 1024, odd ratios. */
const SIZES: [number, number][] = [
  [800, 534],
  [534, 800],
  [5, 3],
  [1, 7],
  [1024, 1024],
  [768, 1024],
  [1200, 1800],
  [3000, 2000],
  [333, 1500],
];

/** An ellipse plus a rectangle plus a one-pixel-wide line, scaled to the image. */
function shapes(H: number, W: number): BinaryMask {
  const m = createMask(W, H);
  const cx = W * 0.4;
  const cy = H * 0.45;
  const rx = Math.max(W * 0.25, 1);
  const ry = Math.max(H * 0.3, 1);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const e = ((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1;
      const r =
        x >= Math.floor(W * 0.7) && x < Math.ceil(W * 0.9) && y >= Math.floor(H * 0.1) && y < Math.ceil(H * 0.3);
      if (e || r) m.data[y * W + x] = 1;
    }
  }
  return m;
}

/**
 * Worst Euclidean distance (pixel units of `a`'s frame, between pixel centres) from a pixel where `b`
 * differs from `a` to the nearest pixel of the other value in `a`: 0 = identical, 1 = only pixels next
 * to a boundary changed.
 */
function worstBoundaryDistance(a: BinaryMask, b: BinaryMask): number {
  const toOutside = distanceToBackground(a);
  const toInside = distanceToBackground({ width: a.width, height: a.height, data: a.data.map((v) => 1 - v) });
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) {
    if (a.data[i] !== b.data[i]) worst = Math.max(worst, (a.data[i] ? toOutside[i] : toInside[i]) as number);
  }
  return worst;
}

function crop(m: BinaryMask, w: number, h: number): BinaryMask {
  return { width: w, height: h, data: cropPadPlane(m.data, m.width, m.height, w, h) };
}

describe('ResizeGeometry', () => {
  it('uniform scale reproduces the train-step fixture boxes → boxes_1024 (dog, 534x800); per-axis is apply_coords', () => {
    const t = readSafetensorsF32(referencePath('tinyvit_train_step.safetensors'), ['boxes', 'boxes_1024']);
    const boxes = t.get('boxes')!.data;
    const ref = t.get('boxes_1024')!.data;
    const uniform = new ResizeGeometry([534, 800], 1024, { coordinateScale: 'uniform' }).boxesToModel(boxes);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs((uniform[i] as number) - (ref[i] as number)));
    expect(worst).toBeLessThanOrEqual(1e-4); // measured: float32 rounding only
    // Per-axis (official predictor): x by 1024/800, y by 684/534.
    const g = new ResizeGeometry([534, 800]);
    expect(g.scaleX).toBe(1024 / 800);
    expect(g.scaleY).toBe(684 / 534);
    const perAxis = g.boxesToModel(boxes);
    expect(perAxis[0]).toBeCloseTo(204.8, 4);
    expect(perAxis[1]).toBeCloseTo((133.5 * 684) / 534, 4);
    expect(ResizeGeometry.fromJSON(JSON.parse(JSON.stringify(g)))).toEqual(g);
  });

  it('input sizes match the manifest', () => {
    const manifest = JSON.parse(readFileSync(referencePath('manifest.json'), 'utf8')) as {
      images: Record<string, { original_size: [number, number]; input_size: [number, number] }>;
    };
    for (const im of Object.values(manifest.images))
      expect(new ResizeGeometry(im.original_size).inputSize).toEqual(im.input_size);
  });

  for (const [H, W] of SIZES) {
    it(`round trip (H,W)=(${H},${W}): points and boxes exact, masks within 1 px`, () => {
      const g = new ResizeGeometry([H, W]);
      expect(Math.max(...g.inputSize)).toBe(1024);
      const rng = createRng(H * 7919 + W);
      const pts = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? rng.uniform(0, W) : rng.uniform(0, H)));
      const back = g.pointsFromModel(g.pointsToModel(pts));
      let worst = 0;
      pts.forEach((v, i) => (worst = Math.max(worst, Math.abs((back[i] as number) - v))));
      expect(worst).toBeLessThan(1e-3); // float32 storage; far below one pixel
      const box = [W * 0.1, H * 0.2, W * 0.8, H * 0.9] as const;
      const m = g.boxToModel(box);
      expect(m[2]).toBeLessThanOrEqual(g.inputSize[1]);
      g.boxFromModel(m).forEach((v, i) => expect(v).toBeCloseTo(box[i] as number, 9));
      const p = g.pointFromModel(g.pointToModel([W - 1, H - 1]));
      expect(p[0]).toBeCloseTo(W - 1, 9);
      expect(p[1]).toBeCloseTo(H - 1, 9);

      // Masks. A round trip goes through the coarser frame, so it is exact up to one pixel OF THAT FRAME:
      // ORIGINAL → MODEL → ORIGINAL moves boundaries by at most 1 original px when the image is enlarged
      // (scale >= 1) and by at most 1 model px (= 1/scale original px) when it is shrunk.
      const scale = g.scaleX;
      const mask = shapes(H, W);
      const model = g.maskToModel(mask);
      expect([model.width, model.height]).toEqual([1024, 1024]);
      let padOnes = 0;
      for (let i = 0; i < model.data.length; i++)
        if (i % 1024 >= g.inputSize[1] || i >= g.inputSize[0] * 1024) padOnes += model.data[i] as number;
      expect(padOnes).toBe(0);
      const restored = g.maskFromModel(model);
      expect([restored.width, restored.height]).toEqual([W, H]);
      const tol = Math.max(1, 1 / scale);
      expect(worstBoundaryDistance(mask, restored)).toBeLessThanOrEqual(tol + 1e-9);
      // Nearest: within one coarse pixel in the 8-neighbourhood sense (sqrt 2).
      const restoredNearest = g.maskFromModel(g.maskToModel(mask, 'nearest'), 'nearest');
      expect(worstBoundaryDistance(mask, restoredNearest)).toBeLessThanOrEqual(Math.SQRT2 * tol + 1e-9);
      if (scale < 1) {
        // MODEL → ORIGINAL → MODEL (predicted masks): the original is finer, within 1 model px.
        const [h, w] = g.inputSize;
        const inModel = shapes(h, w);
        const back = crop(g.maskToModel(g.maskFromModel(inModel)), w, h);
        expect(worstBoundaryDistance(inModel, back)).toBeLessThanOrEqual(1);
      }
    });
  }

  it('tiny images upscale and come back exactly; unpadded (h,w) masks are accepted', () => {
    const g = new ResizeGeometry([3, 5]);
    const mask = createMask(5, 3, [0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1]);
    const model = g.maskToModel(mask);
    expect([...g.maskFromModel(model).data]).toEqual([...mask.data]);
    const [h, w] = g.inputSize;
    expect([...g.maskFromModel(crop(model, w, h)).data]).toEqual([...mask.data]);
    expect(() => g.maskFromModel(createMask(10, 10))).toThrow(
      /maskFromModel\(mask\): expected \(H,W\)=\(1024,1024\) or the input size \(614,1024\), got \(10,10\)/,
    );
    expect(() => g.maskToModel(createMask(3, 5))).toThrow(/expected the original size \(H,W\)=\(3,5\), got \(5,3\)/);
    expect(() => g.pointsToModel([1, 2, 3])).toThrow(/odd length 3/);
  });
});
