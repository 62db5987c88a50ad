import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AP_IOU_THRESHOLDS, MaskApAccumulator, MaskApInputError } from './mask-ap.js';

/** A 1-D "image" of `n` pixels with foreground on [from, to). */
function strip(n: number, from: number, to: number): Uint8Array {
  const m = new Uint8Array(n);
  m.fill(1, from, to);
  return m;
}

const N = 400;
// Two ground truths of 100 pixels each; detection A covers 83 of the first (IoU 0.83), detection B
// 62 of the second (IoU 0.62). So at t = .50,.55,.60 both match; at .65-.80 only A; at .85-.95 none.
const gt1 = strip(N, 0, 100);
const gt2 = strip(N, 200, 300);
const detA = strip(N, 0, 83);
const detB = strip(N, 200, 262);

describe('MaskApAccumulator (COCO mask AP)', () => {
  it('has the COCO thresholds', () => {
    expect(AP_IOU_THRESHOLDS.map((t) => +t.toFixed(2))).toEqual([
      0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95,
    ]);
  });

  it('gives the hand-computed AP when the better mask has the higher score', () => {
    const acc = new MaskApAccumulator();
    acc.addImage(
      [
        { category: 1, mask: gt1 },
        { category: 1, mask: gt2 },
      ],
      [
        { category: 1, score: 0.9, mask: detA },
        { category: 1, score: 0.8, mask: detB },
      ],
    );
    const r = acc.compute();
    // t <= .60: precision 1 at every recall point -> 1.
    expect(r.ap50).toBe(1);
    // t = .75: A is a TP (recall .5, precision 1), B a FP: precision 1 on recall points 0..0.50
    // (51 of 101), 0 above -> 51/101.
    expect(r.ap75).toBeCloseTo(51 / 101, 12);
    expect(r.ap).toBeCloseTo((3 * 1 + 4 * (51 / 101) + 3 * 0) / 10, 12);
  });

  it('ranks by score: the same masks with the scores swapped lose AP', () => {
    const acc = new MaskApAccumulator();
    acc.addImage(
      [
        { category: 1, mask: gt1 },
        { category: 1, mask: gt2 },
      ],
      [
        { category: 1, score: 0.2, mask: detA },
        { category: 1, score: 0.8, mask: detB },
      ],
    );
    const r = acc.compute();
    expect(r.ap50).toBe(1);
    // t = .75: B (FP) first, then A (TP): precision [0, .5] made monotone -> [.5, .5] -> .5 * 51/101.
    expect(r.ap75).toBeCloseTo((0.5 * 51) / 101, 12);
    expect(r.ap).toBeCloseTo((3 * 1 + 4 * ((0.5 * 51) / 101)) / 10, 12);
  });

  it('averages over categories with ground truth and pools images; a detection matches one GT at most', () => {
    const acc = new MaskApAccumulator();
    // image 1: category 1 perfect; a duplicate detection of gt1 is a FP (gt1 already taken)
    acc.addImage(
      [{ category: 1, mask: gt1 }],
      [
        { category: 1, score: 0.9, mask: gt1 },
        { category: 1, score: 0.5, mask: gt1 },
      ],
    );
    // image 2: category 2, the detection misses (IoU 0); category 3 has a detection but no GT (ignored)
    acc.addImage(
      [{ category: 2, mask: gt2 }],
      [
        { category: 2, score: 0.7, mask: detA },
        { category: 3, score: 0.7, mask: gt2 },
      ],
    );
    const r = acc.compute();
    // category 1: TP then FP -> recall 1 reached at precision 1 -> AP 1 at every t; category 2: 0.
    expect(r.ap50).toBe(0.5);
    expect(r.ap).toBe(0.5);
  });

  it('is NaN without ground truth and rejects masks of another size', () => {
    expect(new MaskApAccumulator().compute().ap).toBeNaN();
    expect(() =>
      new MaskApAccumulator().addImage(
        [{ category: 1, mask: gt1 }],
        [{ category: 1, score: 1, mask: strip(5, 0, 1) }],
        'x.jpg',
      ),
    ).toThrow(MaskApInputError);
    expect(() =>
      new MaskApAccumulator().addImage([{ category: 1, mask: gt1 }], [{ category: 1, score: Number.NaN, mask: gt1 }]),
    ).toThrow(/expected finite scores, got NaN/);
  });
});

describe('MaskApAccumulator: crowd regions and ties (COCOeval rules)', () => {
  const crowdRegion = strip(N, 200, 300);
  const onCrowd = strip(N, 200, 230); // IoU 0.3 as a plain GT, 30/30 = 1 against a crowd region

  it('ignores detections matched to a crowd region; crowd adds nothing to recall', () => {
    const gts = [
      { category: 1, mask: gt1 },
      { category: 1, mask: crowdRegion, iscrowd: true },
    ];
    const dets = [
      { category: 1, score: 0.9, mask: onCrowd },
      { category: 1, score: 0.85, mask: strip(N, 230, 260) },
      { category: 1, score: 0.8, mask: gt1 },
    ];
    const acc = new MaskApAccumulator();
    const matches = acc.addImage(gts, dets);
    expect(matches).toEqual([{ gt: 0, det: 2, iou: 1 }]);
    expect(acc.compute()).toEqual({ ap: 1, ap50: 1, ap75: 1 });
    // the same region as a plain ground truth: the first detection is a FP, the second too (taken)
    const plain = new MaskApAccumulator();
    plain.addImage(
      gts.map((g) => ({ ...g, iscrowd: false })),
      dets,
    );
    expect(plain.compute().ap50).toBeCloseTo((1 / 3) * (51 / 101) + 0, 12);
  });

  it('prefers a plain ground truth over a crowd region, and gives no AP to a crowd-only category', () => {
    const acc = new MaskApAccumulator();
    // the detection overlaps both: IoU 1 with the crowd region (listed first), 0.6 with the plain GT
    acc.addImage(
      [
        { category: 1, mask: strip(N, 0, 100), iscrowd: true },
        { category: 1, mask: strip(N, 40, 140) },
        { category: 2, mask: strip(N, 300, 400), iscrowd: true },
      ],
      [
        { category: 1, score: 0.9, mask: strip(N, 40, 115) },
        { category: 2, score: 0.9, mask: strip(N, 300, 350) },
      ],
    );
    const r = acc.compute();
    expect(r.ap50).toBe(1); // category 1 only: matched to the plain GT at .50 (IoU .75)
    expect(r.ap75).toBe(1);
    expect(r.ap).toBeCloseTo(0.6, 12); // a TP up to t = .75; at .80 matched to the crowd region (0.8) and ignored; above, a FP
  });

  it('orders tied scores by image id, not by the order images are added', () => {
    const images = [
      { id: 2, gts: [{ category: 1, mask: gt1 }], dets: [{ category: 1, score: 0.5, mask: detB }] },
      { id: 10, gts: [{ category: 1, mask: gt2 }], dets: [{ category: 1, score: 0.5, mask: gt2 }] },
    ];
    const forward = new MaskApAccumulator();
    for (const im of images) forward.addImage(im.gts, im.dets, `img${im.id}`, im.id);
    const backward = new MaskApAccumulator();
    for (const im of [...images].reverse()) backward.addImage(im.gts, im.dets, `img${im.id}`, im.id);
    // image 2 first (numeric order): FP then TP -> precision .5 up to recall .5
    expect(forward.compute().ap50).toBeCloseTo((0.5 * 51) / 101, 12);
    expect(backward.compute()).toEqual(forward.compute());
  });
});

describe('MaskApAccumulator against pycocotools', () => {
  it('reproduces COCOeval segm AP, AP50, AP75 on a random 12-image case (test-utils/coco-ap-case.py)', () => {
    interface Mask {
      category: number;
      score?: number;
      mask: string;
    }
    const c = JSON.parse(readFileSync(join(import.meta.dirname, 'test-utils', 'coco-ap-case.json'), 'utf8')) as {
      size: number;
      expected: { ap: number; ap50: number; ap75: number };
      images: { gts: Mask[]; dets: Mask[] }[];
    };
    const unpack = (hex: string): Uint8Array =>
      Uint8Array.from({ length: c.size }, (_, i) => (parseInt(hex[i >> 2] as string, 16) >> (3 - (i & 3))) & 1);
    const acc = new MaskApAccumulator();
    for (const im of c.images)
      acc.addImage(
        im.gts.map((g) => ({ category: g.category, mask: unpack(g.mask) })),
        im.dets.map((d) => ({ category: d.category, score: d.score as number, mask: unpack(d.mask) })),
      );
    const r = acc.compute();
    expect(r.ap).toBeCloseTo(c.expected.ap, 12);
    expect(r.ap50).toBeCloseTo(c.expected.ap50, 12);
    expect(r.ap75).toBeCloseTo(c.expected.ap75, 12);
    expect(r.ap).toBeGreaterThan(0.05);
  });
});
