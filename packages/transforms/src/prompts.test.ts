import { describe, expect, it } from 'vitest';
import { distanceToBackground } from './distance.js';
import { createMask, resizeMask, type BinaryMask } from './mask.js';
import {
  interiorPoint,
  jitterBox,
  maskBox,
  PromptError,
  sampleNegativePoints,
  samplePositivePoints,
  selectPrompt,
} from './prompts.js';
import { createRng } from './rng.js';

function fromRows(rows: string[]): BinaryMask {
  const H = rows.length;
  const W = (rows[0] as string).length;
  return createMask(
    W,
    H,
    [...rows.join('')].map((c) => (c === '#' ? 1 : 0)),
  );
}

/** A thick U: two legs and a bottom bar, 60x60. Its pixel mean lies in the empty middle. */
function uShape(): BinaryMask {
  const m = createMask(60, 60);
  for (let y = 5; y < 55; y++) {
    for (let x = 5; x < 55; x++) if (x < 20 || x >= 40 || y >= 40) m.data[y * 60 + x] = 1;
  }
  return m;
}

/** A ring: radius 8..20 around (30, 30). */
function ring(): BinaryMask {
  const m = createMask(64, 64);
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 64; x++) {
      const r = Math.hypot(x - 30, y - 30);
      if (r >= 8 && r <= 20) m.data[y * 64 + x] = 1;
    }
  }
  return m;
}

const at = (m: BinaryMask, p: readonly [number, number]): number => m.data[p[1] * m.width + p[0]] as number;

describe('createRng', () => {
  it('is deterministic, in [0,1), and resumable from its state', () => {
    const a = createRng(42);
    const b = createRng(42);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / 1000 - 0.5)).toBeLessThan(0.05);
    expect(createRng(43).next()).not.toBe(xs[0]);
    const c = createRng(7);
    c.next();
    const resumed = createRng(0, c.getState());
    expect(resumed.next()).toBe(c.next());
    expect(() => c.int(0)).toThrow(/Rng.int\(n\): expected a positive integer, got 0/);
  });
});

describe('maskBox', () => {
  it('is the inclusive tight box [minX, minY, maxX, maxY]', () => {
    const m = fromRows(['.....', '..#..', '.###.', '.....']);
    expect(maskBox(m)).toEqual([1, 1, 3, 2]);
    expect(maskBox(fromRows(['#']))).toEqual([0, 0, 0, 0]);
    expect(() => maskBox(createMask(3, 3))).toThrow(PromptError);
  });
});

describe('jitterBox', () => {
  it('is seeded, bounded by maxPixels / fraction, clamped to the image and ordered', () => {
    const box = [20, 30, 60, 50] as const;
    const size = { width: 100, height: 80 };
    const a = jitterBox(box, { maxPixels: 5, rng: createRng(1) }, size);
    expect(jitterBox(box, { maxPixels: 5, rng: createRng(1) }, size)).toEqual(a);
    expect(jitterBox(box, { maxPixels: 5, rng: createRng(2) }, size)).not.toEqual(a);
    const rng = createRng(3);
    for (let i = 0; i < 200; i++) {
      const j = jitterBox(box, { fraction: 0.1, maxPixels: 3, rng }, size);
      // x side 41 px → 4.1 px, capped at 3; y side 21 px → 2.1 px.
      [3, 2.1, 3, 2.1].forEach((lim, k) =>
        expect(Math.abs((j[k] as number) - (box[k] as number))).toBeLessThanOrEqual(lim + 1e-12),
      );
    }
    const edge = jitterBox([0, 0, 99, 79], { maxPixels: 50, rng: createRng(4) }, size);
    expect(edge[0]).toBeGreaterThanOrEqual(0);
    expect(edge[2]).toBeLessThanOrEqual(99);
    expect(edge[0]).toBeLessThanOrEqual(edge[2]);
    expect(edge[1]).toBeLessThanOrEqual(edge[3]);
    expect(() => jitterBox(box, { rng }, size)).toThrow(/expected maxPixels and\/or fraction/);
  });
});

describe('samplePositivePoints', () => {
  it('gives the same points for the same seed, distinct and inside the mask', () => {
    const m = uShape();
    const a = samplePositivePoints(m, 8, createRng(11));
    expect(samplePositivePoints(m, 8, createRng(11))).toEqual(a);
    expect(samplePositivePoints(m, 8, createRng(12))).not.toEqual(a);
    expect(a).toHaveLength(8);
    expect(new Set(a.map((p) => p.join(','))).size).toBe(8);
    for (const p of a) expect(at(m, p)).toBe(1);
    // More points than pixels: repeats, still inside.
    const tiny = fromRows(['.#', '#.']);
    const many = samplePositivePoints(tiny, 5, createRng(1));
    expect(many).toHaveLength(5);
    for (const p of many) expect(at(tiny, p)).toBe(1);
  });
});

describe('interiorPoint', () => {
  it('a rectangle gives its centre', () => {
    const m = createMask(21, 11);
    for (let y = 2; y < 9; y++) for (let x = 3; x < 18; x++) m.data[y * 21 + x] = 1;
    expect(interiorPoint(m)).toEqual([10, 5]);
  });

  it('U and ring shapes: inside the mask although the mean position is outside', () => {
    for (const m of [uShape(), ring()]) {
      let sx = 0;
      let sy = 0;
      let n = 0;
      m.data.forEach((v, i) => {
        if (v) [sx, sy, n] = [sx + (i % m.width), sy + Math.floor(i / m.width), n + 1];
      });
      expect(at(m, [Math.round(sx / n), Math.round(sy / n)])).toBe(0); // the naive centre is outside
      const p = interiorPoint(m);
      expect(at(m, p)).toBe(1);
      // It is a point of maximal clearance.
      const d = distanceToBackground(m);
      expect(d[p[1] * m.width + p[0]]).toBe(Math.max(...d));
    }
    // Deterministic: the same point every call.
    expect(interiorPoint(uShape())).toEqual(interiorPoint(uShape()));
  });
});

describe('distanceToBackground', () => {
  it('equals brute-force Euclidean distance (image outside counts as background)', () => {
    const rng = createRng(5);
    const m = resizeMask(
      createMask(
        6,
        5,
        Array.from({ length: 30 }, () => (rng.next() < 0.7 ? 1 : 0)),
      ),
      30,
      25,
      'nearest',
    );
    const d = distanceToBackground(m);
    const W = m.width;
    const H = m.height;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let best = Infinity;
        for (let yy = -1; yy <= H; yy++) {
          for (let xx = -1; xx <= W; xx++) {
            const bg = xx < 0 || yy < 0 || xx >= W || yy >= H || m.data[yy * W + xx] === 0;
            if (bg) best = Math.min(best, Math.hypot(xx - x, yy - y));
          }
        }
        expect(d[y * W + x]).toBeCloseTo(m.data[y * W + x] ? best : 0, 9);
      }
    }
  });
});

describe('sampleNegativePoints', () => {
  it('outside the mask, inside the box grown by the margin, seeded', () => {
    const m = ring();
    const [x0, y0, x1, y1] = maskBox(m);
    const a = sampleNegativePoints(m, 20, createRng(9), { margin: 3 });
    expect(sampleNegativePoints(m, 20, createRng(9), { margin: 3 })).toEqual(a);
    expect(a).toHaveLength(20);
    for (const p of a) {
      expect(at(m, p)).toBe(0);
      expect(p[0]).toBeGreaterThanOrEqual(x0 - 3);
      expect(p[0]).toBeLessThanOrEqual(x1 + 3);
      expect(p[1]).toBeGreaterThanOrEqual(y0 - 3);
      expect(p[1]).toBeLessThanOrEqual(y1 + 3);
    }
  });

  it('falls back to the whole image, and fails when there is no background', () => {
    const m = fromRows(['##...', '##...']);
    for (const p of sampleNegativePoints(m, 4, createRng(1), { margin: 0 })) expect(at(m, p)).toBe(0);
    expect(() => sampleNegativePoints(fromRows(['##', '##']), 1, createRng(1))).toThrow(
      /covering all of \(H,W\)=\(2,2\)/,
    );
  });
});

describe('selectPrompt (box-priority rule)', () => {
  const box = [1, 2, 3, 4] as const;
  const points = [[5, 6] as const, [7, 8] as const];
  it('box wins when both exist; points only without a box', () => {
    expect(selectPrompt({ box, points, labels: [1, 0] })).toEqual({ kind: 'box', box });
    expect(selectPrompt({ points })).toEqual({ kind: 'points', points, labels: [1, 1] });
    expect(selectPrompt({ box, points, labels: [1, 0] }, 'points')).toEqual({ kind: 'points', points, labels: [1, 0] });
    expect(selectPrompt({ box, points }, 'box')).toEqual({ kind: 'box', box });
    expect(() => selectPrompt({ points }, 'box')).toThrow(/mode 'box' expected a box, got no box and 2 points/);
    expect(() => selectPrompt({})).toThrow(PromptError);
    expect(() => selectPrompt({ points, labels: [1] })).toThrow(/expected 2 labels/);
  });
});
