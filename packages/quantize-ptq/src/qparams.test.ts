import { describe, expect, it } from 'vitest';
import {
  activationParams,
  quantizeBias,
  quantizeUint8,
  quantizeWeight,
  QuantParamsError,
  roundHalfToEven,
} from './qparams.js';

describe('roundHalfToEven', () => {
  it('rounds ties to the even integer like ONNX QuantizeLinear', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(roundHalfToEven)).toEqual([0, 2, 2, -0, -2, -2, 2, -3]);
  });
});

describe('activationParams (uint8, per tensor)', () => {
  it('computes scale = (max-min)/255 and the zero point of a known range', () => {
    const p = activationParams(-1, 3);
    expect(p.scale).toBe(Math.fround(4 / 255));
    expect(p.zeroPoint).toBe(64); // round(1 / (4/255)) = round(63.75)
    expect(quantizeUint8(0, p)).toBe(64); // 0 is exact
    expect(quantizeUint8(3, p)).toBe(255);
    expect(quantizeUint8(-1, p)).toBe(0);
    expect(quantizeUint8(10, p)).toBe(255); // saturates
  });
  it('widens a range to contain 0 and keeps a positive scale for a zero range', () => {
    expect(activationParams(0.5, 2)).toEqual({ scale: Math.fround(2 / 255), zeroPoint: 0 });
    expect(activationParams(-2, -0.5)).toEqual({ scale: Math.fround(2 / 255), zeroPoint: 255 });
    expect(activationParams(0, 0).scale).toBeGreaterThan(0);
    expect(() => activationParams(1, 0)).toThrow(QuantParamsError);
  });
});

describe('quantizeWeight (int8 symmetric)', () => {
  it('per output column of a MatMul B [K,N] (axis 1)', () => {
    // K=2, N=3, row-major: column c = [w[c], w[3+c]]
    const w = Float32Array.from([1, -0.5, 0.2, -2, 0.25, 0.1]);
    const q = quantizeWeight(w, [2, 3], 1);
    expect(Array.from(q.scales)).toEqual([2 / 127, 0.5 / 127, 0.2 / 127].map(Math.fround));
    expect(Array.from(q.data)).toEqual([64, -127, 127, -127, 64, 64]); // 1/(2/127)=63.5 → 64 (half to even)
    expect(q.axis).toBe(1);
  });
  it('per output channel of a Conv W [O,I,kh,kw] (axis 0) and per tensor', () => {
    const w = Float32Array.from([0.5, -1, 0.25, 0.1, 4, -2, 1, 0]); // O=2, I=1, 2x2
    const q = quantizeWeight(w, [2, 1, 2, 2], 0);
    expect(Array.from(q.scales)).toEqual([1 / 127, 4 / 127].map(Math.fround));
    expect(Array.from(q.data)).toEqual([64, -127, 32, 13, 127, -64, 32, 0]);
    const t = quantizeWeight(w, [2, 1, 2, 2], undefined);
    expect(Array.from(t.scales)).toEqual([Math.fround(4 / 127)]);
    expect(quantizeWeight(w, [2, 1, 2, 2], 0, true).data[4]).toBe(63); // reduce range: [-63,63]
    expect(() => quantizeWeight(w, [2, 1, 2, 2], 4)).toThrow(/axis 4 is outside the weight's rank 4/);
    expect(() => quantizeWeight(w, [3, 3], 0)).toThrow(/needs 9 values, got 8/);
  });
});

describe('quantizeBias (int32)', () => {
  it('uses scale inputScale * weightScale[c]', () => {
    const { data, scales } = quantizeBias(Float32Array.from([0.1, -0.2]), 0.01, Float32Array.from([0.5, 0.25]));
    expect(Array.from(scales)).toEqual([0.005, 0.0025].map(Math.fround));
    expect(Array.from(data)).toEqual([20, -80]);
  });
});
