import { describe, expect, it } from 'vitest';
import { PromptBatchError, slicePromptBatch } from './prompt-batch.js';

describe('slicePromptBatch', () => {
  it('cuts boxes, and points with their labels, as views', () => {
    const boxes = Float32Array.from({ length: 12 }, (_, i) => i);
    const b = slicePromptBatch({ size: 3, numPoints: 0, boxes }, 1, 3);
    expect(b).toMatchObject({ size: 2, numPoints: 0 });
    expect([...(b.boxes as Float32Array)]).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    expect((b.boxes as Float32Array).buffer).toBe(boxes.buffer);
    const coords = Float32Array.from({ length: 3 * 2 * 2 }, (_, i) => i);
    const labels = Float32Array.of(1, 0, 1, 1, 0, 0);
    const p = slicePromptBatch({ size: 3, numPoints: 2, coords, labels }, 2, 3);
    expect([...(p.coords as Float32Array)]).toEqual([8, 9, 10, 11]);
    expect([...(p.labels as Float32Array)]).toEqual([0, 0]);
    expect(p.boxes).toBeUndefined();
  });

  it('names the bounds when the range is empty or outside the batch', () => {
    const batch = { size: 2, numPoints: 0, boxes: new Float32Array(8) };
    expect(() => slicePromptBatch(batch, 1, 1)).toThrow('need 0 <= from < to <= 2, got [1, 1)');
    expect(() => slicePromptBatch(batch, 0, 3)).toThrow('need 0 <= from < to <= 2, got [0, 3)');
    expect(() => slicePromptBatch(batch, -1, 1)).toThrow(PromptBatchError);
  });
});
