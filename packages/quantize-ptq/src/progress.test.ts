import { describe, expect, it } from 'vitest';
import { EtaReporter, formatSeconds } from './progress.js';

describe('EtaReporter', () => {
  it('prints the total, the elapsed time and the ETA at the rate so far, every 10% and at the end', () => {
    let t = 0;
    const lines: string[] = [];
    const r = new EtaReporter(
      'decoder: calibrated',
      'samples',
      40,
      (l) => lines.push(l),
      0.1,
      () => t,
    );
    for (let done = 1; done <= 40; done++) {
      t = done * 500; // 0.5 s a sample
      r.update(done);
    }
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe('decoder: calibrated 4/40 samples, 2 s elapsed, ETA 18 s');
    expect(lines[4]).toBe('decoder: calibrated 20/40 samples, 10 s elapsed, ETA 10 s');
    expect(lines[9]).toBe('decoder: calibrated 40/40 samples, 20 s elapsed, done');
  });

  it('formats seconds, minutes and hours', () => {
    expect(formatSeconds(41.6)).toBe('42 s');
    expect(formatSeconds(236)).toBe('3 min 56 s');
    expect(formatSeconds(3725)).toBe('1 h 02 min');
    expect(formatSeconds(Number.NaN)).toBe('?');
  });
});
