/** The gate's rule on hand-made numbers: not worse on F1, NoC@85/90 and IoU@1/3/5, within tolerances. */
import { describe, expect, it } from 'vitest';
import { gate, versionMetrics } from './gate.js';

const m = (f1: number, noc: number, iou: number) => ({
  f1,
  noc85: noc,
  noc90: noc + 1,
  iouAt1: iou,
  iouAt3: iou + 0.1,
  iouAt5: iou + 0.2,
  prompts: 10,
});

describe('gate', () => {
  it('accepts a candidate that is not worse on every number, and says so', () => {
    const d = gate(m(0.8, 3, 0.6), m(0.7, 4, 0.5), 'v0');
    expect(d.accept).toBe(true);
    expect(d.reason).toBe(
      'accepted: not worse than the serving version v0 on the held-out labels (F1 0.8000 vs 0.7000, NoC@85 3.0000 vs 4.0000, NoC@90 4.0000 vs 5.0000, IoU@1 0.6000 vs 0.5000, IoU@3 0.7000 vs 0.6000, IoU@5 0.8000 vs 0.7000)',
    );
    expect(gate(m(0.7, 4, 0.5), m(0.7, 4, 0.5), 'v0').accept).toBe(true);
  });

  it('rejects a candidate worse on any number, naming it, within the tolerances', () => {
    const d = gate(m(0.9, 5, 0.6), m(0.7, 4, 0.5), 'v2');
    expect(d.accept).toBe(false);
    expect(d.reason).toMatch(
      /^rejected: worse than the serving version v2 on the held-out labels \(NoC@85 5\.0000 vs 4\.0000, NoC@90 6\.0000 vs 5\.0000\); not worse: F1/,
    );
    expect(gate(m(0.69, 4, 0.5), m(0.7, 4, 0.5), 'v0').accept).toBe(false);
    expect(gate(m(0.69, 4, 0.5), m(0.7, 4, 0.5), 'v0', { f1: 0.02 }).accept).toBe(true);
    expect(gate(m(0.7, 5, 0.5), m(0.7, 4, 0.5), 'v0', { noc: 1 }).accept).toBe(true);
  });

  it('leaves out what was not measured, and rejects without a candidate F1', () => {
    const noClicks = versionMetrics({ f1: 0.5, instances: 3 });
    expect(noClicks).toEqual({
      f1: 0.5,
      noc85: null,
      noc90: null,
      iouAt1: null,
      iouAt3: null,
      iouAt5: null,
      prompts: 3,
    });
    const d = gate(noClicks, m(0.4, 4, 0.5), 'v0');
    expect(d.accept).toBe(true);
    expect(d.reason).toMatch(/not measured: NoC@85, NoC@90, IoU@1, IoU@3, IoU@5$/);
    expect(gate(versionMetrics({ f1: Number.NaN, instances: 0 }), m(0.4, 4, 0.5), 'v0').accept).toBe(false);
  });
});
