import { describe, expect, it } from 'vitest';
import { EarlyStopping, EarlyStoppingError } from './early-stopping.js';

describe('EarlyStopping', () => {
  it('has the reference defaults: mode max, minDelta 0.001, patience 3, warm-up 3 epochs', () => {
    const es = new EarlyStopping();
    expect([es.mode, es.minDelta, es.patience, es.warmupEpochs]).toEqual(['max', 0.001, 3, 3]);
  });

  it('ignores the warm-up epochs 0..2 entirely, then starts from the first monitored value', () => {
    const es = new EarlyStopping();
    for (const v of [0.9, 0.1, 0.05]) {
      const d = es.update(v);
      expect(d).toMatchObject({ monitored: false, improved: false, shouldStop: false, best: null, wait: 0 });
    }
    // Epoch 3 is the first monitored one; it improves on -inf even though warm-up saw 0.9.
    expect(es.update(0.2)).toMatchObject({ epoch: 3, monitored: true, improved: true, best: 0.2, wait: 0 });
    expect(es.state()).toEqual({ epochs: 4, best: 0.2, bestEpoch: 3, wait: 0, stoppedEpoch: null });
  });

  it('needs strictly more than minDelta: exactly minDelta is no improvement (max and min)', () => {
    // 0.125 and 2^-20 are exact in binary floating point.
    const up = new EarlyStopping({ minDelta: 0.125, warmupEpochs: 0 });
    up.update(0.5);
    expect(up.update(0.625)).toMatchObject({ improved: false, wait: 1, best: 0.5 });
    expect(up.update(0.625 + 2 ** -20)).toMatchObject({ improved: true, wait: 0, best: 0.625 + 2 ** -20 });
    const down = new EarlyStopping({ mode: 'min', minDelta: 0.125, warmupEpochs: 0 });
    down.update(0.5);
    expect(down.update(0.375)).toMatchObject({ improved: false, wait: 1 });
    expect(down.update(0.375 - 2 ** -20)).toMatchObject({ improved: true, wait: 0 });
    // With the default 0.001: 0.501 - 0.001 === 0.5 in float64, so 0.5 -> 0.501 does not count.
    const dflt = new EarlyStopping({ warmupEpochs: 0 });
    dflt.update(0.5);
    expect(dflt.update(0.501).improved).toBe(false);
    expect(dflt.update(0.5011).improved).toBe(true);
  });

  it('resets patience on an improvement and stops after `patience` monitored epochs without one', () => {
    const es = new EarlyStopping({ patience: 3, warmupEpochs: 1 });
    const values = [0, 0.5, 0.4, 0.45, 0.6, 0.6, 0.59, 0.6005];
    const decisions = values.map((v) => es.update(v));
    expect(decisions.map((d) => d.wait)).toEqual([0, 0, 1, 2, 0, 1, 2, 3]);
    expect(decisions.map((d) => d.shouldStop)).toEqual([false, false, false, false, false, false, false, true]);
    expect(decisions.at(-1)).toMatchObject({ epoch: 7, reason: 'patience', best: 0.6 });
    expect(es.state()).toMatchObject({ bestEpoch: 4, stoppedEpoch: 7 });
    expect(es.stopped).toBe(true);
  });

  it('stops at once on a non-finite value after the warm-up, not during it', () => {
    const es = new EarlyStopping({ warmupEpochs: 1 });
    expect(es.update(Number.NaN).shouldStop).toBe(false);
    expect(es.update(0.3).improved).toBe(true);
    expect(es.update(Number.NaN)).toMatchObject({ shouldStop: true, reason: 'non-finite', best: 0.3 });
  });

  it('resumes from a JSON round trip of its state with identical decisions', () => {
    const values = [0.1, 0.2, 0.3, 0.4, 0.42, 0.4205, 0.41, 0.4, 0.39];
    const a = new EarlyStopping();
    const all = values.map((v) => a.update(v));
    const b = new EarlyStopping();
    values.slice(0, 5).forEach((v) => b.update(v));
    const c = new EarlyStopping();
    c.load(JSON.parse(JSON.stringify(b.state())));
    const rest = values.slice(5).map((v) => c.update(v));
    expect(rest).toEqual(all.slice(5));
    expect(rest.at(-1)).toMatchObject({ epoch: 8, shouldStop: true, best: 0.42 });
    expect(c.state()).toEqual(a.state());
  });

  it('rejects invalid options and states', () => {
    expect(() => new EarlyStopping({ patience: 0 })).toThrow(EarlyStoppingError);
    expect(() => new EarlyStopping({ minDelta: -1 })).toThrow(/minDelta must be a finite number >= 0, got -1/);
    expect(() => new EarlyStopping({ warmupEpochs: 1.5 })).toThrow(/warmupEpochs must be an integer >= 0, got 1.5/);
    expect(() =>
      new EarlyStopping().load({ epochs: -1, best: null, bestEpoch: null, wait: 0, stoppedEpoch: null }),
    ).toThrow(EarlyStoppingError);
  });
});
