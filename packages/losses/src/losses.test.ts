import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_LOSS_WEIGHTS, LossShapeError } from './sam-loss-on.js';
import { perMask, samLoss } from './test-utils/tfjs-loss.js';

const LN2 = Math.log(2);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('loss parts, hand-computed on logits 0 (p = 0.5) against targets [1,0,1,0]', () => {
  const logits = () => tf.zeros([1, 1, 2, 2]);
  const targets = () => tf.tensor4d([1, 0, 1, 0], [1, 1, 2, 2]);
  const iouPred = () => tf.tensor2d([[0.8]]);

  it('focal = mean(alpha_t * ln2 * 0.25) = ln2/8', () => {
    // ce = ln 2, 1 - p_t = 0.5 -> 0.25; alpha_t = 0.25 (t=1), 0.75 (t=0); mean over 4 pixels.
    expect(samLoss(logits(), targets(), iouPred()).focal.dataSync()[0]).toBeCloseTo(LN2 / 8, 6);
  });

  it('dice = 1 - (2*1 + 1)/(2 + 2 + 1) = 0.4', () => {
    expect(samLoss(logits(), targets(), iouPred()).dice.dataSync()[0]).toBeCloseTo(0.4, 6);
  });

  it('p >= 0.5 counts p = 0.5 as foreground: IoU 2/4, iou_mse = (0.8 - 0.5)^2', () => {
    expect(perMask('iou', logits(), targets(), tf.tensor2d([[1]]))).toEqual([0.25]); // (1 - IoU)^2
    expect(samLoss(logits(), targets(), iouPred()).iou.dataSync()[0]).toBeCloseTo(0.09, 6);
  });

  it('samLoss = 20*focal + dice + iou, and its gradients match the formulas', () => {
    const parts = samLoss(logits(), targets(), iouPred());
    expect(parts.loss.dataSync()[0]).toBeCloseTo(20 * (LN2 / 8) + 0.4 + 0.09, 5);
    expect(parts.focal.dataSync()[0]).toBeCloseTo(LN2 / 8, 6);
    const [gx, gi] = tf.grads((x: tf.Tensor, i: tf.Tensor) => samLoss(x, targets(), i).loss)([logits(), iouPred()]);
    // focal: d/dx [a_t*ce*(1-p_t)^2]/4 * 20 with d(1-p_t)/dx = (1-2t)/4, dce/dx = p - t;
    // dice: -(2t*D - N)/D^2 * p(1-p) with N = 3, D = 5; iou term: no gradient to the logits.
    const focalPos = (20 / 4) * 0.25 * (-0.5 * 0.25 + LN2 * 2 * 0.5 * -0.25);
    const focalNeg = (20 / 4) * 0.75 * (0.5 * 0.25 + LN2 * 2 * 0.5 * 0.25);
    const dicePos = (-(2 * 5 - 3) / 25) * 0.25;
    const diceNeg = (3 / 25) * 0.25;
    const g = Array.from((gx as tf.Tensor).dataSync());
    const want = [focalPos + dicePos, focalNeg + diceNeg, focalPos + dicePos, focalNeg + diceNeg];
    g.forEach((v, k) => expect(v).toBeCloseTo(want[k] as number, 5));
    expect((gi as tf.Tensor).dataSync()[0]).toBeCloseTo(2 * (0.8 - 0.5), 6);
  });
});

describe('reduction over masks', () => {
  it('sums per-mask values and divides by B*M: [1,2,H,W] equals [2,1,H,W]', () => {
    const data = [3, -2, 0.5, -0.1, -4, 1, 2, -3];
    const tgt = [1, 0, 1, 1, 0, 0, 1, 0];
    const a = samLoss(tf.tensor4d(data, [1, 2, 2, 2]), tf.tensor4d(tgt, [1, 2, 2, 2]), tf.tensor2d([[0.3, 0.9]]));
    const b = samLoss(tf.tensor4d(data, [2, 1, 2, 2]), tf.tensor4d(tgt, [2, 1, 2, 2]), tf.tensor2d([[0.3], [0.9]]));
    expect(a.loss.dataSync()[0]).toBeCloseTo(b.loss.dataSync()[0] as number, 6);
    const per = perMask('dice', tf.tensor4d(data, [2, 1, 2, 2]), tf.tensor4d(tgt, [2, 1, 2, 2]));
    expect(per).toHaveLength(2);
    expect(b.dice.dataSync()[0]).toBeCloseTo(((per[0] as number) + (per[1] as number)) / 2, 6);
    const perF = perMask('focal', tf.tensor4d(data, [2, 1, 2, 2]), tf.tensor4d(tgt, [2, 1, 2, 2]));
    expect(b.focal.dataSync()[0]).toBeCloseTo(((perF[0] as number) + (perF[1] as number)) / 2, 6);
  });

  it('an empty prediction on an empty target has IoU 1; a prediction on an empty target IoU 0', () => {
    // iou_mse against a predicted IoU of 0 is IoU^2
    expect(perMask('iou', tf.tensor4d([-1, -2, -3, -4, 1, -1, -1, -1], [2, 1, 2, 2]), tf.zeros([2, 1, 2, 2]))).toEqual([
      1, 0,
    ]);
  });

  it('weights are configurable and default to focal 20, dice 1, iou 1', () => {
    expect(DEFAULT_LOSS_WEIGHTS).toEqual({ focal: 20, dice: 1, iou: 1 });
    const x = tf.tensor4d([2, -1, 0.5, -3], [1, 1, 2, 2]);
    const t = tf.tensor4d([1, 0, 0, 0], [1, 1, 2, 2]);
    const i = tf.tensor2d([[0.4]]);
    const d = samLoss(x, t, i);
    const w = samLoss(x, t, i, { weights: { focal: 1, iou: 3 } });
    const expected =
      (d.focal.dataSync()[0] as number) + (d.dice.dataSync()[0] as number) + 3 * (d.iou.dataSync()[0] as number);
    expect(w.loss.dataSync()[0]).toBeCloseTo(expected, 6);
  });
});

describe('memory', () => {
  it('the loss keeps only its result tensors (four scalars and the per-mask loss)', () => {
    const x = tf.randomNormal([2, 1, 8, 8]);
    const t = tf.cast(tf.greater(tf.randomUniform([2, 1, 8, 8]), 0.5), 'float32');
    const i = tf.randomUniform([2, 1]);
    const before = tf.memory().numTensors;
    const r = samLoss(x, t, i);
    expect(tf.memory().numTensors).toBe(before + 5);
    tf.dispose([r.loss, r.focal, r.dice, r.iou, r.perMask, x, t, i]);
  });
});

describe('shape errors', () => {
  it('names the function, the argument and both shapes', () => {
    const x = tf.zeros([2, 1, 4, 4]);
    expect(() => samLoss(tf.zeros([2, 4, 4]), tf.zeros([2, 4, 4]), tf.zeros([2, 1]))).toThrow(LossShapeError);
    expect(() => samLoss(x, tf.zeros([2, 1, 4, 3]), tf.zeros([2, 1]))).toThrow(
      /samLossOn\(targets\): expected \[2,1\|1,4,4\] for logits \[2,1,4,4\], got \[2,1,4,3\]/,
    );
    expect(() => samLoss(x, x, tf.zeros([2]))).toThrow(
      /samLossOn\(iouPredictions\): expected \[2,1\] for logits \[2,1,4,4\], got \[2\]/,
    );
  });
});
