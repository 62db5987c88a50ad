import { describe, expect, it } from 'vitest';
import { createMask, type BinaryMask } from '@samtune/transforms';
import type { FloatTensor } from '@samtune/sam-model';
import { ClicksAccumulator, clickSequence, maskIoU, nextClick, type Click } from './clicks-to-quality.js';

const W = 20;
const H = 16;
/** A `(H,W)` mask with the rectangles `[x0,y0,x1,y1]` (inclusive) set. */
function rects(...rs: (readonly [number, number, number, number])[]): BinaryMask {
  const m = createMask(W, H);
  for (const [x0, y0, x1, y1] of rs)
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) m.data[y * W + x] = 1;
  return m;
}
function minus(a: BinaryMask, b: BinaryMask): Uint8Array {
  return a.data.map((v, i) => (v && !b.data[i] ? 1 : 0));
}
const low = (v: number): FloatTensor => ({ dtype: 'float32', shape: [1, 256, 256], data: new Float32Array(1).fill(v) });

describe('nextClick', () => {
  const gt = rects([2, 2, 12, 12]);
  it('clicks positive at the centre of the largest false-negative region', () => {
    // Missing the 5x5 block at the bottom right (area 25) beats a 2x2 false positive (area 4).
    const pred = minus(gt, rects([8, 8, 12, 12]));
    pred[0] = pred[1] = pred[W] = pred[W + 1] = 1;
    expect(nextClick(gt, pred)).toEqual({ point: [10, 10], label: 1 });
  });
  it('clicks negative at the centre of a larger false-positive region', () => {
    const pred = Uint8Array.from(rects([2, 2, 12, 12], [14, 3, 18, 7]).data);
    expect(nextClick(gt, pred)).toEqual({ point: [16, 5], label: 0 });
  });
  it('gives no click without error, and names the size on a mismatch', () => {
    expect(nextClick(gt, gt.data)).toBeUndefined();
    expect(() => nextClick(gt, new Uint8Array(3))).toThrow(/expected 320 pixels .*\(H,W\)=\(16,20\)\), got 3/);
  });
});

describe('clickSequence', () => {
  it('starts at the interior point, feeds the previous low-res logits back, stops without error', async () => {
    const gt = rects([2, 2, 12, 12]);
    const seen: { clicks: Click[]; maskInput: number | undefined }[] = [];
    const outputs = [minus(gt, rects([8, 8, 12, 12])), Uint8Array.from(gt.data)];
    const ious = await clickSequence(gt, async (clicks, maskInput) => {
      seen.push({ clicks: [...clicks], maskInput: maskInput?.data[0] });
      return { mask: outputs[seen.length - 1] as Uint8Array, lowRes: low(seen.length) };
    });
    expect(ious).toEqual([(121 - 25) / 121, 1]);
    expect(seen).toEqual([
      { clicks: [{ point: [7, 7], label: 1 }], maskInput: undefined },
      {
        clicks: [
          { point: [7, 7], label: 1 },
          { point: [10, 10], label: 1 },
        ],
        maskInput: 1,
      },
    ]);
  });
  it('makes at most maxClicks, and at least minClicks before stopping at the top threshold', async () => {
    const gt = rects([2, 2, 12, 12]);
    const never = await clickSequence(gt, async () => ({ mask: new Uint8Array(W * H), lowRes: low(0) }), {
      maxClicks: 7,
    });
    expect(never).toEqual([0, 0, 0, 0, 0, 0, 0]);
    let calls = 0;
    const almost = minus(gt, rects([12, 12, 12, 12])); // IoU 120/121 >= 0.9, one pixel missing
    const good = await clickSequence(gt, async () => (calls++, { mask: almost, lowRes: low(0) }));
    expect(calls).toBe(5);
    expect(good).toHaveLength(5);
  });
});

describe('ClicksAccumulator', () => {
  it('NoC@85/90 with maxClicks for never, IoU@k holding the last value of a short sequence', () => {
    const acc = new ClicksAccumulator(20);
    acc.add([0.5, 0.86, 0.95]);
    acc.add([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(acc.compute()).toEqual({
      noc85: (2 + 20) / 2,
      noc90: (3 + 20) / 2,
      iouAt1: 0.3,
      iouAt3: (0.95 + 0.3) / 2,
      iouAt5: (0.95 + 0.5) / 2,
      instances: 2,
      maxClicks: 20,
    });
    expect(maskIoU([1, 0, 1, 0], [1, 1, 0, 0])).toBeCloseTo(1 / 3, 12);
  });
});
