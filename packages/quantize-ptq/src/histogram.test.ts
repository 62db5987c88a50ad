import { describe, expect, it } from 'vitest';
import { CalibrationStatsError, TensorStats } from './histogram.js';

describe('TensorStats', () => {
  it('keeps exact min/max and every value in the histogram when the range doubles', () => {
    const s = new TensorStats('t', true, 8);
    s.update(Float32Array.from([0.1, -0.4, 0.5]));
    expect(s.range).toBe(0.5);
    s.update(Float32Array.from([1.9, -0.1])); // needs [-2,2]: two doublings
    expect(s.range).toBe(2);
    expect(s.minMax()).toEqual({ min: Math.fround(-0.4), max: Math.fround(1.9) });
    expect(s.count).toBe(5);
    const h = Array.from(s.hist as Float64Array);
    expect(h.reduce((a, b) => a + b, 0)).toBe(5);
    // bins of width 0.5 over [-2,2]: -0.4, -0.1 → bin 3; 0.1 → bin 4; 0.5 → bin 4 (it was the right edge of
    // the first range [-0.5,0.5], counted in its last bin, which merges into [0,0.5)); 1.9 → bin 7
    expect(h).toEqual([0, 0, 0, 2, 2, 0, 0, 1]);
  });

  it('percentile range is [q(1-p/100), q(p/100)] (uniform 0..9999, p = 99: [100, 9900])', () => {
    const s = new TensorStats('u', true, 4096);
    s.update(Float32Array.from({ length: 10000 }, (_, i) => i));
    const r = s.percentileRange(99);
    const binWidth = (2 * s.range) / 4096;
    expect(Math.abs(r.min - 100)).toBeLessThanOrEqual(binWidth);
    expect(Math.abs(r.max - 9900)).toBeLessThanOrEqual(binWidth);
    expect(s.percentileRange(100)).toEqual({ min: 0, max: 9999 });
    expect(() => s.percentileRange(40)).toThrow(CalibrationStatsError);
  });

  it('entropy range clips a long tail but stays inside [min, max]', () => {
    const s = new TensorStats('g', true, 2048);
    const v = Float32Array.from({ length: 20000 }, (_, i) => Math.sin(i * 12.9898) * 0.5);
    v[0] = 40; // one outlier
    s.update(v);
    const r = s.entropyRange();
    expect(r.max).toBeLessThan(40);
    expect(r.max).toBeGreaterThan(0.3);
    expect(r.min).toBeGreaterThanOrEqual(s.min);
  });

  it('refuses non-finite values and empty statistics, naming the tensor', () => {
    const s = new TensorStats('bad', false);
    expect(() => s.minMax()).toThrow(/'bad' saw no calibration values/);
    expect(() => s.update(Float32Array.from([1, Number.NaN, Number.POSITIVE_INFINITY]))).toThrow(
      /'bad' has non-finite values/,
    );
  });
});
