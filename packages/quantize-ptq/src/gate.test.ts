import { describe, expect, it } from 'vitest';
import {
  AccuracyGateError,
  enforceGate,
  f1DropPoints,
  gateDecision,
  GateOptionsError,
  vacuousGateNote,
} from './gate.js';

const scores = (f1: number) => ({ f1, iou: f1 / 2, dice: f1, images: 17, instances: 104 });

describe('accuracy gate', () => {
  it('passes a drop up to the limit (in F1 points) and an improvement', () => {
    expect(f1DropPoints(scores(0.8), scores(0.79))).toBeCloseTo(1, 10);
    expect(gateDecision('decoder', scores(0.8), scores(0.795), 1)).toMatchObject({
      passed: true,
      f1DropPoints: expect.closeTo(0.5, 10),
    });
    expect(gateDecision('decoder', scores(0.8), scores(0.81), 0).passed).toBe(true);
    expect(gateDecision('decoder', scores(0.8), scores(0.79), 1).passed).toBe(true); // exactly at the limit
    expect(enforceGate([gateDecision('encoder', scores(0.8), scores(0.8), 0)])).toHaveLength(1);
  });

  it('refuses a larger drop with an AccuracyGateError naming the model and the measured drop', () => {
    const d = gateDecision('encoder', scores(0.8), scores(0.7825), 1);
    expect(d.passed).toBe(false);
    let err: unknown;
    try {
      enforceGate([d, gateDecision('decoder', scores(0.8), scores(0.8), 1)]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AccuracyGateError);
    expect((err as AccuracyGateError).name).toBe('AccuracyGateError');
    expect((err as Error).message).toBe(
      'accuracy gate: encoder: INT8 F1 0.7825 vs FP32 0.8000 = drop of 1.75 F1 points > max-f1-drop 1; the INT8 model was not written',
    );
    expect((err as AccuracyGateError).refused.map((r) => r.model)).toEqual(['encoder']);
  });

  it('refuses a meaningless limit', () => {
    expect(() => gateDecision('x', scores(1), scores(1), -1)).toThrow(GateOptionsError);
    expect(() => gateDecision('x', scores(1), scores(1), Number.NaN)).toThrow(
      /expected a finite number of F1 points >= 0, got NaN/,
    );
  });
});

describe('vacuousGateNote', () => {
  it('says so when FP32 F1 is within the gate margin of 0 (an empty INT8 model would pass), and not otherwise', () => {
    expect(vacuousGateNote(0, 1)).toMatch(/^the FP32 model scores F1 0\.0000 .* within the gate's 1-point margin of 0/);
    expect(vacuousGateNote(0.0027, 1)).toMatch(/F1 0\.0027/);
    expect(vacuousGateNote(0.01, 1)).toBeDefined();
    expect(vacuousGateNote(0.0101, 1)).toBeUndefined();
    expect(vacuousGateNote(0.8, 1)).toBeUndefined();
  });
});
