import { describe, expect, it } from 'vitest';
import { MetricAccumulator, MetricInputError, metricsFromCounts } from './metrics.js';

describe('MetricAccumulator (micro-averaged pixel F1 / IoU / Dice)', () => {
  it('pools TP/FP/FN over instances instead of averaging per-instance scores', () => {
    const acc = new MetricAccumulator();
    // Instance A, 2x3 logits: predicted fg where logit > 0 (0 itself is background).
    acc.add(Float32Array.of(2.5, -1, 0, 0.1, -3, 7), Uint8Array.of(1, 1, 0, 0, 0, 1));
    // -> TP 2 (pixels 0, 5), FP 1 (pixel 3), FN 1 (pixel 1).
    expect(acc.counts()).toEqual({ tp: 2, fp: 1, fn: 1, pixels: 6, instances: 1 });
    // Instance B, 2x2 binary prediction, target 0/255.
    acc.add(Uint8Array.of(0, 0, 1, 0), Uint8Array.of(255, 255, 255, 255));
    // -> TP 1, FP 0, FN 3. Totals TP 3, FP 1, FN 4.
    expect(acc.counts()).toEqual({ tp: 3, fp: 1, fn: 4, pixels: 10, instances: 2 });
    const m = acc.compute();
    expect(m.f1).toBeCloseTo(6 / 11, 12); // 2*3 / (6 + 1 + 4)
    expect(m.iou).toBeCloseTo(3 / 8, 12); // 3 / (3 + 1 + 4)
    expect(m.dice).toBe(m.f1);
    expect(m.instances).toBe(2);
    // The macro mean would differ: A f1 = 4/6, B f1 = 2/5 -> 0.5333 != 6/11 = 0.5454.
    expect((4 / 6 + 2 / 5) / 2).not.toBeCloseTo(m.f1, 3);
  });

  it('reads probabilities with threshold > 0.5 when asked, and 0/1 floats like logits', () => {
    const a = new MetricAccumulator();
    a.add([0.5, 0.51, 0.9, 0.2], [1, 1, 0, 0], 'probabilities');
    expect(a.counts()).toMatchObject({ tp: 1, fp: 1, fn: 1 });
    const b = new MetricAccumulator();
    b.add(Float32Array.of(1, 0, 1, 0), Float32Array.of(1, 1, 0, 0));
    expect(b.counts()).toMatchObject({ tp: 1, fp: 1, fn: 1 });
    expect(b.compute()).toEqual({ f1: 0.5, iou: 1 / 3, dice: 0.5, instances: 1 });
  });

  it('gives 0 on empty totals, merges, resets, and names size mismatches', () => {
    const acc = new MetricAccumulator();
    expect(acc.compute()).toEqual({ f1: 0, iou: 0, dice: 0, instances: 0 });
    acc.add([-1, -1], [0, 0]);
    expect(acc.compute()).toEqual({ f1: 0, iou: 0, dice: 0, instances: 1 });
    const other = new MetricAccumulator();
    other.add([1, 1], [1, 0]);
    acc.merge(other);
    expect(acc.counts()).toEqual({ tp: 1, fp: 1, fn: 0, pixels: 4, instances: 2 });
    expect(metricsFromCounts(acc.counts()).iou).toBe(0.5);
    acc.reset();
    expect(acc.counts()).toEqual({ tp: 0, fp: 0, fn: 0, pixels: 0, instances: 0 });
    expect(() => acc.add([1, 2, 3], [1, 2], 'logits', 'dog.jpg#2')).toThrow(MetricInputError);
    expect(() => acc.add([1, 2, 3], [1, 2], 'logits', 'dog.jpg#2')).toThrow(
      /dog\.jpg#2: prediction has 3 pixels, target 2/,
    );
  });
});
