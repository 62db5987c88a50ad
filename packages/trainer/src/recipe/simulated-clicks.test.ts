/**
 * Iterative simulated clicks: the click sampler on synthetic masks whose next click is known, and the
 * passes of `iterativeDecoderLoss` on MobileSAM's decoder (tinyvit.pth, dog.jpg's embedding).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { SAM_PRESETS, SamPredictor } from '@samtune/sam-model';
import { readTorchCheckpoint } from '@samtune/tensor-files';
import { createRng, ResizeGeometry } from '@samtune/transforms';
import { setupRuntime } from '@samtune/evaluation';
import { type DecoderPromptBatch } from '@samtune/training-data';
import { decoderLoss } from '../train-step.js';
import { fixtureTensor, readFixture, referencePath } from '../test-utils/fixtures.js';
import {
  appendClicks,
  bestByPredictedIou,
  clickToModel,
  iterativeDecoderLoss,
  lowResValidSize,
  sampleErrorClick,
  SimulatedClickError,
  type ErrorClick,
} from './simulated-clicks.js';

const S = 256;
const plane = S * S;
/** A 256x256 plane with the rectangle [x0,x1) x [y0,y1) set to `inside` and the rest to `outside`. */
function rect(x0: number, y0: number, x1: number, y1: number, inside = 1, outside = 0): Float32Array {
  const p = new Float32Array(plane).fill(outside);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) p[y * S + x] = inside;
  return p;
}
const full: [number, number] = [S, S];

describe('sampleErrorClick', () => {
  it('a single false-negative pixel is the next click, positive, at the centre of its 4x4 block', () => {
    const target = rect(100, 50, 140, 90);
    const logits = rect(100, 50, 140, 90, 5, -5);
    logits[70 * S + 123] = -2; // the prediction misses one target pixel
    const click = sampleErrorClick(logits, target, full, createRng(1));
    expect(click).toEqual({ x: 123, y: 70, label: 1 });
    expect(clickToModel(click, 1024)).toEqual([123 * 4 + 1.5, 70 * 4 + 1.5]);
  });

  it('a single false-positive pixel is the next click, negative', () => {
    const target = rect(100, 50, 140, 90);
    const logits = rect(100, 50, 140, 90, 5, -5);
    logits[10 * S + 20] = 0.5;
    expect(sampleErrorClick(logits, target, full, createRng(7))).toEqual({ x: 20, y: 10, label: 0 });
  });

  it('no error gives the padding point (label -1, ignored by the prompt encoder) and draws nothing', () => {
    const target = rect(10, 10, 20, 20);
    const rng = createRng(3);
    const click = sampleErrorClick(rect(10, 10, 20, 20, 1, -1), target, full, rng);
    expect(click).toEqual({ x: 0, y: 0, label: -1 });
    expect(clickToModel(click, 1024)).toEqual([0, 0]);
    expect(rng.int(1000)).toBe(createRng(3).int(1000));
  });

  it('ignores errors in the padding of the low-res frame', () => {
    const geometry = new ResizeGeometry([300, 600]); // (h,w) = (512,1024): 128 valid low-res rows
    expect(lowResValidSize(geometry)).toEqual([128, 256]);
    const target = rect(0, 0, 10, 10);
    const logits = rect(0, 0, 10, 10, 3, -3);
    logits[200 * S + 5] = 3; // a false positive below the image
    logits[127 * S + 9] = 3; // and one in the last valid row
    expect(sampleErrorClick(logits, target, lowResValidSize(geometry), createRng(0))).toEqual({
      x: 9,
      y: 127,
      label: 0,
    });
  });

  it('draws uniformly from the whole error region (false negatives and false positives), seeded', () => {
    const target = rect(0, 0, 4, 1); // FN pixels (0..3, 0)
    const logits = rect(0, 0, 0, 0, 1, -1);
    for (const x of [10, 11]) logits[5 * S + x] = 1; // FP pixels (10..11, 5)
    const seen = new Map<string, number>();
    const rng = createRng(42);
    for (let k = 0; k < 600; k++) {
      const c = sampleErrorClick(logits, target, full, rng);
      const key = `${c.x},${c.y},${c.label}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(['0,0,1', '1,0,1', '10,5,0', '11,5,0', '2,0,1', '3,0,1']);
    for (const n of seen.values()) expect(n).toBeGreaterThan(50); // 100 expected each
    const a = sampleErrorClick(logits, target, full, createRng(9));
    expect(sampleErrorClick(logits, target, full, createRng(9))).toEqual(a);
  });

  it('names the argument and both sizes on a wrong plane', () => {
    expect(() => sampleErrorClick(new Float32Array(10), new Float32Array(plane), full, createRng(0))).toThrow(
      'sampleErrorClick(logits, target): expected [256,256] = 65536 values each, got 10 and 65536',
    );
  });
});

describe('appendClicks and bestByPredictedIou', () => {
  it('appends one point per prompt after its existing points', () => {
    const batch: DecoderPromptBatch = {
      size: 2,
      coords: Float32Array.from([1, 2, 3, 4]),
      labels: Float32Array.from([1, 1]),
      numPoints: 1,
    };
    const out = appendClicks(batch, Float32Array.from([9, 8, 7, 6]), Float32Array.from([0, -1]));
    expect(out.numPoints).toBe(2);
    expect([...(out.coords as Float32Array)]).toEqual([1, 2, 9, 8, 3, 4, 7, 6]);
    expect([...(out.labels as Float32Array)]).toEqual([1, 0, 1, -1]);
    const boxes = appendClicks(
      { size: 1, boxes: Float32Array.from([0, 0, 5, 5]), numPoints: 0 },
      Float32Array.from([2, 3]),
      Float32Array.from([1]),
    );
    expect(boxes.numPoints).toBe(1);
    expect([...(boxes.boxes as Float32Array)]).toEqual([0, 0, 5, 5]);
    expect(() => appendClicks(batch, new Float32Array(2), new Float32Array(2))).toThrow(SimulatedClickError);
  });

  it('keeps the output with the highest predicted IoU per prompt', () => {
    const masks = new Float32Array(2 * 3 * plane);
    for (let k = 0; k < 6; k++) masks.fill(k, k * plane, (k + 1) * plane);
    const best = bestByPredictedIou(masks, [0.1, 0.9, 0.5, 0.7, 0.2, 0.3], 2, 3);
    expect([best[0], best[plane]]).toEqual([1, 3]);
  });
});

describe('iterativeDecoderLoss (tinyvit decoder, dog.jpg)', () => {
  let predictor: SamPredictor;
  let emb: tf.Tensor;
  let boxes: Float32Array;
  const geometry = new ResizeGeometry([534, 800]);

  beforeAll(async () => {
    await setupRuntime('wasm', true);
    predictor = new SamPredictor({
      config: SAM_PRESETS.tiny_vit,
      weights: readTorchCheckpoint(referencePath('tinyvit.pth')),
    });
    const e = fixtureTensor(
      readFixture('tinyvit_outputs.safetensors'),
      'tinyvit_outputs.safetensors',
      'dog.image_embeddings',
    );
    emb = tf.tensor(e.data, [...e.shape]);
    boxes = fixtureTensor(
      readFixture('tinyvit_train_step.safetensors'),
      'tinyvit_train_step.safetensors',
      'boxes_1024',
    ).data;
    boxes = Float32Array.from([...boxes.subarray(0, 4), ...boxes.subarray(8, 12)]); // boxes 0 and 2 (box 1 predicts nothing)
  });
  afterAll(() => {
    emb?.dispose();
    predictor?.dispose();
  });

  it('clicks where the synthetic target differs from the first prediction, then averages the passes', () => {
    const batch: DecoderPromptBatch = { size: 2, boxes, numPoints: 0 };
    let result!: { loss: number; byHand: number[]; clicks1: ErrorClick[] };
    tf.tidy(() => {
      // Pass 0 alone, to build targets whose error region is known: each target is the first prediction
      // (logit > 0) with one pixel flipped, a false negative for prompt 0, a false positive for prompt 1.
      const first = decoderLoss(predictor, emb, batch, tf.zeros([2, 1, S, S]));
      const low = first.lowResMasks.dataSync() as Float32Array;
      const targets = new Float32Array(2 * plane);
      for (let i = 0; i < 2 * plane; i++) targets[i] = (low[i] as number) > 0 ? 1 : 0;
      const fn = { x: 20, y: 100 }; // left of box 0, inside the image: predicted background
      const fp =
        plane +
        (() => {
          for (let i = 0; i < plane; i++) if ((targets[plane + i] as number) === 1) return i;
          throw new Error('prompt 1 predicts an empty mask');
        })();
      expect(targets[fn.y * S + fn.x]).toBe(0);
      targets[fn.y * S + fn.x] = 1;
      targets[fp] = 0;
      const tgt = tf.tensor(targets, [2, 1, S, S]);
      const clicks: (readonly ErrorClick[])[] = [];
      const r = iterativeDecoderLoss(
        predictor,
        emb,
        batch,
        tgt,
        {},
        {
          iterations: 2,
          lowResTargets: targets,
          geometry,
          rng: createRng(5),
          onClicks: (_, c) => clicks.push(c),
        },
      );
      expect(r.passes).toBe(3);
      expect(clicks.length).toBe(2);
      expect(clicks[0]).toEqual([
        { ...fn, label: 1 },
        { x: (fp - plane) % S, y: Math.floor((fp - plane) / S), label: 0 },
      ]);
      // The same mean by hand: pass 0, pass 1 (one click, the pass-0 logits as mask input), pass 2.
      const pass0 = decoderLoss(predictor, emb, batch, tgt);
      const c1 = Float32Array.from((clicks[0] as ErrorClick[]).flatMap((c) => clickToModel(c, 1024)));
      const b1 = appendClicks(batch, c1, Float32Array.from((clicks[0] as ErrorClick[]).map((c) => c.label)));
      const pass1 = decoderLoss(predictor, emb, b1, tgt, {}, { maskInput: tf.tensor(low, [2, 1, S, S]) });
      const low1 = pass1.lowResMasks.dataSync() as Float32Array;
      const c2 = Float32Array.from((clicks[1] as ErrorClick[]).flatMap((c) => clickToModel(c, 1024)));
      const b2 = appendClicks(b1, c2, Float32Array.from((clicks[1] as ErrorClick[]).map((c) => c.label)));
      const pass2 = decoderLoss(predictor, emb, b2, tgt, {}, { maskInput: tf.tensor(low1, [2, 1, S, S]) });
      const byHand = [pass0, pass1, pass2].map((p) => p.loss.dataSync()[0] as number);
      result = { loss: r.loss.dataSync()[0] as number, byHand, clicks1: clicks[1] as ErrorClick[] };
    });
    const mean = (result.byHand[0]! + result.byHand[1]! + result.byHand[2]!) / 3;
    expect(Math.abs(result.loss - mean)).toBeLessThan(1e-5 + 1e-4 * mean);
    // the passes differ (the clicks and the mask input change the prediction)
    expect(Math.abs(result.byHand[1]! - result.byHand[0]!)).toBeGreaterThan(1e-6);
    for (const c of result.clicks1) expect([1, 0, -1]).toContain(c.label);
  });

  it('is seeded: the same generator seed gives the same clicks and loss; iterations 0 is decoderLoss', () => {
    const batch: DecoderPromptBatch = { size: 1, boxes: boxes.slice(0, 4), numPoints: 0 };
    const target = rect(60, 60, 200, 180);
    const run = (seed: number): { loss: number; clicks: ErrorClick[] } => {
      const clicks: ErrorClick[] = [];
      const loss = tf.tidy(() => {
        const r = iterativeDecoderLoss(
          predictor,
          emb,
          batch,
          tf.tensor(target, [1, 1, S, S]),
          {},
          {
            iterations: 1,
            lowResTargets: target,
            geometry,
            rng: createRng(seed),
            onClicks: (_, c) => clicks.push(...c),
          },
        );
        return r.loss.dataSync()[0] as number;
      });
      return { loss, clicks };
    };
    const a = run(11);
    expect(run(11)).toEqual(a);
    expect(a.clicks.length).toBe(1);
    const zero = tf.tidy(() => {
      const t = tf.tensor(target, [1, 1, S, S]);
      const r = iterativeDecoderLoss(
        predictor,
        emb,
        batch,
        t,
        {},
        { iterations: 0, lowResTargets: target, geometry, rng: createRng(0) },
      );
      return [r.loss.dataSync()[0], decoderLoss(predictor, emb, batch, t).loss.dataSync()[0]];
    });
    expect(zero[0]).toBe(zero[1]);
  });
});
