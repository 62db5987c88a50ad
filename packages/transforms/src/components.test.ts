import { describe, expect, it } from 'vitest';
import { largestComponent } from './components.js';
import { createMask } from './mask.js';

/** A mask from rows of '#' and '.'. */
function drawn(rows: readonly string[]) {
  const m = createMask(rows[0]!.length, rows.length);
  rows.forEach((r, y) => [...r].forEach((c, x) => (m.data[y * m.width + x] = c === '#' ? 1 : 0)));
  return m;
}

describe('largestComponent', () => {
  it('keeps the largest 4-connected region (diagonal neighbours are separate)', () => {
    const m = drawn(['##....', '##..#.', '...#..', '..###.', '...#..']);
    const c = largestComponent(m);
    expect(c?.area).toBe(5);
    expect(Array.from(c?.mask.data ?? [])).toEqual(
      Array.from(drawn(['......', '......', '...#..', '..###.', '...#..']).data),
    );
  });

  it('takes the first in raster order on a tie, and nothing from an empty mask', () => {
    const c = largestComponent(drawn(['#.#', '...']));
    expect(c?.area).toBe(1);
    expect(c?.mask.data[0]).toBe(1);
    expect(largestComponent(createMask(3, 2))).toBeUndefined();
  });
});
