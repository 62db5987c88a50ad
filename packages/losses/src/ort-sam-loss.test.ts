import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { OrtSamLoss } from './ort-sam-loss.js';
import { LossShapeError } from './sam-loss-on.js';
import { samLoss } from './test-utils/tfjs-loss.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A deterministic pseudo-random sequence in [0, 1). */
function uniform(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

describe('OrtSamLoss', () => {
  it('equals samLossOn on tfjs for the same logits, IoU predictions and targets (B = 1 and 3)', () => {
    const ort = new OrtSamLoss([16, 16]);
    try {
      for (const b of [1, 3, 1]) {
        const n = b * 16 * 16;
        const logits = uniform(n, b).map((u) => 8 * u - 4);
        const targets = uniform(n, b + 7).map((u) => (u > 0.6 ? 1 : 0));
        const iou = uniform(b, b + 3);
        const ref = tf.tidy(
          () =>
            samLoss(
              tf.tensor(logits, [b, 1, 16, 16]),
              tf.tensor(targets, [b, 1, 16, 16]),
              tf.tensor(iou, [b, 1]),
            ).loss.dataSync()[0] as number,
        );
        const got = ort.loss(logits, iou, targets, b);
        expect(ref).toBeGreaterThan(0.1);
        expect(Math.abs(got - ref)).toBeLessThanOrEqual(1e-5 * Math.abs(ref));
      }
    } finally {
      ort.dispose();
    }
  });

  it('names the sizes it expected and got', () => {
    const ort = new OrtSamLoss([16, 16]);
    expect(() => ort.loss(new Float32Array(10), new Float32Array(1), new Float32Array(256), 1)).toThrow(LossShapeError);
    expect(() => ort.loss(new Float32Array(10), new Float32Array(1), new Float32Array(256), 1)).toThrow(
      /OrtSamLoss.loss\(b=1\): expected logits and targets of 256 values and iou of 1, got 10, 256, 1/,
    );
    ort.dispose();
  });
});
