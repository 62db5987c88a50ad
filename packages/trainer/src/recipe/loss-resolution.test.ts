/**
 * `loss.resolution original`: the differentiable post-processing against the official PyTorch
 * `postprocess_masks` output (tinyvit_outputs.safetensors, dog case 1) and `lowResToOriginal`, and
 * the loss (value and gradient) against a tiny case computed by hand in float64.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { samLossOn } from '@samtune/losses';
import { TfjsOps } from '@samtune/sam-model/modeling';

const tfjs = new TfjsOps(new Map());
import { compareTensors } from '@samtune/sam-model';
import { lowResToOriginal, ResizeGeometry } from '@samtune/transforms';
import { setupRuntime } from '@samtune/evaluation';
import { fixtureTensor, readFixture } from '../test-utils/fixtures.js';
import { LossResolutionError, lowResToOriginalTf, postprocessAxisMatrix } from './loss-resolution.js';

beforeAll(async () => {
  await setupRuntime('wasm', true);
});

/** torch `F.interpolate(bilinear, align_corners=False)` of an `(inH,inW)` plane, float64, by hand. */
function resizeByHand(src: Float64Array, inH: number, inW: number, outH: number, outW: number): Float64Array {
  const taps = (inN: number, outN: number, o: number): [number, number, number] => {
    const s = Math.max(0, ((o + 0.5) * inN) / outN - 0.5);
    const i0 = Math.floor(s);
    return [i0, Math.min(i0 + 1, inN - 1), s - i0];
  };
  const out = new Float64Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const [y0, y1, ly] = taps(inH, outH, y);
    for (let x = 0; x < outW; x++) {
      const [x0, x1, lx] = taps(inW, outW, x);
      const at = (r: number, c: number): number => src[r * inW + c] as number;
      out[y * outW + x] =
        (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
    }
  }
  return out;
}

/** SAM's postprocess by hand: up to `t x t`, crop `(h,w)`, to `(H,W)`. */
function postprocessByHand(low: Float64Array, s: number, t: number, h: number, w: number, H: number, W: number) {
  const up = resizeByHand(low, s, s, t, t);
  const crop = new Float64Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) crop[y * w + x] = up[y * t + x] as number;
  return resizeByHand(crop, h, w, H, W);
}

/** `20*focal + dice (+ iou_mse)` of one mask in float64 (torchvision focal, alpha 0.25, gamma 2; dice smooth 1). */
function lossByHand(logits: Float64Array, target: ArrayLike<number>, iouPred: number, withIou = true): number {
  let focal = 0;
  let pt = 0;
  let ps = 0;
  let ts = 0;
  let inter = 0;
  let union = 0;
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i] as number;
    const t = target[i] as number;
    const p = 1 / (1 + Math.exp(-x));
    const ce = Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
    const oneMinusPt = p + t - 2 * p * t;
    focal += (0.25 * t + 0.75 * (1 - t)) * ce * oneMinusPt * oneMinusPt;
    pt += p * t;
    ps += p;
    ts += t;
    const bin = p >= 0.5 ? 1 : 0;
    inter += bin * t;
    union += Math.max(bin, t);
  }
  focal /= logits.length;
  const dice = 1 - (2 * pt + 1) / (ps + ts + 1);
  const iou = union === 0 ? 1 : inter / union;
  return 20 * focal + dice + (withIou ? (iouPred - iou) ** 2 : 0);
}

// The tiny case: 4x4 low-res logits, a 16 model frame, a (6,8) original image -> (12,16) resized.
const S = 4;
const geometry = new ResizeGeometry([6, 8], 16);
const low = Float64Array.from({ length: S * S }, (_, i) => Math.sin(1.7 * i + 0.3) * 3);
const target = Uint8Array.from({ length: 6 * 8 }, (_, i) => ((i % 8) + Math.floor(i / 8) < 7 ? 1 : 0));

describe('lowResToOriginalTf (differentiable postprocess_masks)', () => {
  it('reproduces the official PyTorch masks at the original size (dog 534x800, case 1)', () => {
    const outs = readFixture('tinyvit_outputs.safetensors');
    const lowRes = fixtureTensor(outs, 'tinyvit_outputs.safetensors', 'dog.case1.low_res_masks');
    const want = fixtureTensor(outs, 'tinyvit_outputs.safetensors', 'dog.case1.masks');
    expect(want.shape).toEqual([1, 534, 800]);
    const got = tf.tidy(() =>
      lowResToOriginalTf(tf.tensor(lowRes.data, [1, 1, 256, 256]), new ResizeGeometry([534, 800])).dataSync(),
    );
    const cmp = compareTensors({ shape: [1, 534, 800], data: got }, want);
    expect(cmp.ok, JSON.stringify(cmp)).toBe(true);
    // and transforms' host implementation (the evaluation path)
    const host = lowResToOriginal(lowRes.data, new ResizeGeometry([534, 800]));
    const cmpHost = compareTensors({ shape: [1, 534, 800], data: got }, { shape: [1, 534, 800], data: host });
    expect(cmpHost.ok, JSON.stringify(cmpHost)).toBe(true);
  });

  it('maps a [B,M,S,S] batch plane by plane, shape [B,M,H,W]', () => {
    const planes = Float32Array.from({ length: 2 * 3 * S * S }, (_, i) => Math.cos(0.37 * i) * 2);
    const got = tf.tidy(() => lowResToOriginalTf(tf.tensor(planes, [2, 3, S, S]), geometry, S));
    expect(got.shape).toEqual([2, 3, 6, 8]);
    const data = got.dataSync();
    for (let k = 0; k < 6; k++) {
      const want = postprocessByHand(Float64Array.from(planes.subarray(k * 16, (k + 1) * 16)), S, 16, 12, 16, 6, 8);
      for (let i = 0; i < 48; i++) expect(data[k * 48 + i]).toBeCloseTo(want[i] as number, 5);
    }
    got.dispose();
  });

  it('the axis matrix rows of an upsampling sum to 1 (bilinear weights)', () => {
    const m = postprocessAxisMatrix(4, 16, 12, 6);
    for (let r = 0; r < 6; r++) expect(m.subarray(r * 4, r * 4 + 4).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('rejects logits that are not [B,M,S,S]', () => {
    expect(() => lowResToOriginalTf(tf.zeros([1, 4, 4]), geometry, S)).toThrow(LossResolutionError);
    expect(() => lowResToOriginalTf(tf.zeros([1, 1, 8, 8]), geometry, S)).toThrow(
      'lowResToOriginalTf(logits): expected [B,M,4,4], got [1,1,8,8]',
    );
  });
});

describe('the loss at the original size against a hand-computed case', () => {
  it('20*focal + dice + iou_mse equals the float64 hand computation', () => {
    const iouPred = 0.6;
    const want = lossByHand(postprocessByHand(low, S, 16, 12, 16, 6, 8), target, iouPred);
    const got = tf.tidy(() => {
      const logits = lowResToOriginalTf(tf.tensor(Float32Array.from(low), [1, 1, S, S]), geometry, S);
      return samLossOn(
        tfjs,
        logits,
        tf.tensor([[iouPred]]),
        tf.tensor(target, [1, 1, 6, 8], 'float32'),
      ).loss.dataSync()[0];
    });
    expect(Math.abs((got as number) - want)).toBeLessThan(1e-4 + 1e-3 * Math.abs(want));
    expect(want).toBeGreaterThan(0.5); // a non-trivial case (the logits disagree with the target)
  });

  it('its gradient with respect to the low-res logits equals central differences of the hand computation', () => {
    const grad = tf.tidy(() =>
      tf
        .grad(
          (x: tf.Tensor) =>
            samLossOn(
              tfjs,
              lowResToOriginalTf(x, geometry, S),
              tf.tensor([[0.5]]),
              tf.tensor(target, [1, 1, 6, 8], 'float32'),
              { weights: { iou: 0 } },
            ).loss as tf.Scalar,
        )(tf.tensor(Float32Array.from(low), [1, 1, S, S]))
        .dataSync(),
    );
    const f = (x: Float64Array): number => lossByHand(postprocessByHand(x, S, 16, 12, 16, 6, 8), target, 0, false);
    const eps = 1e-5;
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < S * S; i++) {
      const plus = Float64Array.from(low);
      const minus = Float64Array.from(low);
      plus[i] = (plus[i] as number) + eps;
      minus[i] = (minus[i] as number) - eps;
      const fd = (f(plus) - f(minus)) / (2 * eps);
      worst = Math.max(worst, Math.abs((grad[i] as number) - fd));
      scale = Math.max(scale, Math.abs(fd));
    }
    expect(scale).toBeGreaterThan(1e-3);
    expect(worst).toBeLessThan(1e-4 + 1e-3 * scale);
  });
});
