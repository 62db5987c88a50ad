/**
 * The trainer's own train-step path (decoderLoss → microBatchGradients → GradientAccumulator)
 * against the official one-step training fixture `tinyvit_train_step.safetensors`: three boxes on
 * dog.jpg, MobileSAM's decoder (tinyvit.pth), loss 20*focal + dice + iou_mse on the 256x256 logits.
 * Runs on the trainer's default runtime: tfjs-wasm with the onnxruntime-node BatchMatMul/Sum/Tile
 * kernels (`setupRuntime('wasm', true)`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compareTensors, SAM_PRESETS, SamPredictor } from '@samtune/sam-model';
import { readTorchCheckpoint } from '@samtune/tensor-files';
import type { FloatTensor, WeightMap } from '@samtune/sam-model';
import { setupRuntime } from '@samtune/evaluation';
import { GradientAccumulator, decoderLoss, microBatchGradients, type DecoderPromptBatch } from './train-step.js';
import { fixtureTensor, readFixture, referencePath } from './test-utils/fixtures.js';

let predictor: SamPredictor;
let step: WeightMap;
let embedding: FloatTensor;
const worst = new Map<string, number>();

beforeAll(async () => {
  const rt = await setupRuntime('wasm', true);
  expect(rt.ortKernels).toBe(true);
  step = readFixture('tinyvit_train_step.safetensors');
  embedding = fixtureTensor(
    readFixture('tinyvit_outputs.safetensors'),
    'tinyvit_outputs.safetensors',
    'dog.image_embeddings',
  );
  predictor = new SamPredictor({
    config: SAM_PRESETS.tiny_vit,
    weights: readTorchCheckpoint(referencePath('tinyvit.pth')),
  });
});

afterAll(() => {
  predictor?.dispose();
  console.log([...worst].map(([k, r]) => `trainer train-step ${k}: worst ratio ${r.toFixed(4)}`).join('\n'));
});

const ref = (key: string): FloatTensor => fixtureTensor(step, 'tinyvit_train_step.safetensors', key);

function record(
  family: string,
  key: string,
  ours: { shape: readonly number[]; data: ArrayLike<number> },
  want: FloatTensor,
): void {
  const a = compareTensors(ours, want);
  expect(a.ok, `${key}: ${JSON.stringify(a)}`).toBe(true);
  worst.set(family, Math.max(worst.get(family) ?? 0, a.ratio));
}

/** Rows [from, to) of the fixture's boxes/targets as a prompt batch. */
function slice(from: number, to: number): { batch: DecoderPromptBatch; targets: tf.Tensor } {
  const boxes = ref('boxes_1024');
  const gt = ref('gt_masks');
  const per = 256 * 256;
  return {
    batch: { size: to - from, boxes: boxes.data.slice(from * 4, to * 4), numPoints: 0 },
    targets: tf.tensor(gt.data.slice(from * per, to * per), [to - from, 1, 256, 256]),
  };
}

describe('train step parity (tinyvit_train_step.safetensors)', () => {
  it('decoderLoss + microBatchGradients reproduce outputs, loss parts and every mask-decoder gradient', () => {
    tf.tidy(() => {
      const emb = tf.tensor(embedding.data, [...embedding.shape]);
      const { batch, targets } = slice(0, 3);
      const fwd = decoderLoss(predictor, emb, batch, targets);
      record(
        'low_res_masks',
        'low_res_masks',
        { shape: fwd.lowResMasks.shape, data: fwd.lowResMasks.dataSync() },
        ref('low_res_masks'),
      );
      record(
        'iou_predictions',
        'iou_predictions',
        { shape: fwd.iouPredictions.shape, data: fwd.iouPredictions.dataSync() },
        ref('iou_predictions'),
      );

      const { grads, parts } = microBatchGradients(predictor, emb, batch, targets);
      for (const [name, value] of [
        ['loss', parts.loss],
        ['loss_focal', parts.focal],
        ['loss_dice', parts.dice],
        ['loss_iou', parts.iou],
      ] as const) {
        record('loss', name, { shape: [1], data: [value] }, ref(name));
      }
      const refKeys = [...step.keys()].filter((k) => k.startsWith('grad.mask_decoder.'));
      expect(grads.size).toBe(predictor.trainableVariables().size);
      expect(refKeys.length).toBe(grads.size);
      for (const [key, g] of grads)
        record('grad', `grad.${key}`, { shape: g.shape, data: g.dataSync() }, ref(`grad.${key}`));
    });
  });

  it('micro-batches [2,1] with scales 2/3 and 1/3, accumulated, give the full-batch gradients', () => {
    tf.tidy(() => {
      const emb = tf.tensor(embedding.data, [...embedding.shape]);
      const acc = new GradientAccumulator();
      for (const [from, to] of [
        [0, 2],
        [2, 3],
      ] as const) {
        const { batch, targets } = slice(from, to);
        acc.add(microBatchGradients(predictor, emb, batch, targets, (to - from) / 3).grads);
      }
      const sums = acc.take();
      expect(acc.empty).toBe(true);
      const keys = Object.keys(sums);
      expect(keys.length).toBe(predictor.trainableVariables().size);
      for (const key of keys) {
        const g = sums[key] as tf.Tensor;
        record('grad (accumulated)', `grad.${key}`, { shape: g.shape, data: g.dataSync() }, ref(`grad.${key}`));
      }
    });
  });

  it('a single-point prompt trains the best of the 3 outputs (lowest loss per prompt)', () => {
    tf.tidy(() => {
      const emb = tf.tensor(embedding.data, [...embedding.shape]);
      const { targets } = slice(0, 2);
      const boxes = ref('boxes_1024').data;
      // One positive point at each box centre (1024 frame).
      const coords = Float32Array.from(
        [0, 1].flatMap((i) => [
          ((boxes[i * 4] as number) + (boxes[i * 4 + 2] as number)) / 2,
          ((boxes[i * 4 + 1] as number) + (boxes[i * 4 + 3] as number)) / 2,
        ]),
      );
      const batch: DecoderPromptBatch = { size: 2, coords, labels: Float32Array.from([1, 1]), numPoints: 1 };
      const r = decoderLoss(predictor, emb, batch, targets);
      expect(r.lowResMasks.shape).toEqual([2, 1, 256, 256]);
      expect(r.iouPredictions.shape).toEqual([2, 1]);
      // Reference: every output token scored separately with the single-mask loss; keep the minimum.
      const { masks, iou } = predictor.decode(
        emb,
        { coords: tf.tensor(coords, [2, 1, 2]), labels: tf.tensor([1, 1], [2, 1]) },
        true,
      );
      expect(masks.shape).toEqual([2, 3, 256, 256]);
      let expected = 0;
      for (let p = 0; p < 2; p++) {
        let best = Number.POSITIVE_INFINITY;
        for (let m = 0; m < 3; m++) {
          const one = (t: tf.Tensor, size: number[]): tf.Tensor =>
            tf.slice(t, t.rank === 4 ? [p, m, 0, 0] : [p, m], size);
          const { samLossValue } = {
            samLossValue: microLoss(
              one(masks, [1, 1, 256, 256]),
              tf.slice(targets, [p, 0, 0, 0], [1, 1, 256, 256]),
              one(iou, [1, 1]),
            ),
          };
          best = Math.min(best, samLossValue);
        }
        expected += best / 2;
      }
      const got = r.loss.dataSync()[0] as number;
      expect(Math.abs(got - expected)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected)));
    });
  });
});

/** The single-mask loss of one prompt through `decoderLoss`'s box path formula (samLoss). */
function microLoss(logits: tf.Tensor, target: tf.Tensor, iouPred: tf.Tensor): number {
  const p = tf.sigmoid(logits);
  const x = logits;
  const ce = tf.add(tf.sub(tf.relu(x), tf.mul(x, target)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
  const pt = tf.add(tf.mul(p, target), tf.mul(tf.sub(1, p), tf.sub(1, target)));
  const alphaT = tf.add(tf.mul(0.25, target), tf.mul(0.75, tf.sub(1, target)));
  const focal = tf.mean(tf.mul(alphaT, tf.mul(ce, tf.square(tf.sub(1, pt))))).dataSync()[0] as number;
  const dice =
    1 -
    (2 * (tf.sum(tf.mul(p, target)).dataSync()[0] as number) + 1) /
      ((tf.sum(p).dataSync()[0] as number) + (tf.sum(target).dataSync()[0] as number) + 1);
  const bin = tf.cast(tf.greaterEqual(p, 0.5), 'float32');
  const inter = tf.sum(tf.mul(bin, target)).dataSync()[0] as number;
  const union = (tf.sum(bin).dataSync()[0] as number) + (tf.sum(target).dataSync()[0] as number) - inter;
  const iouT = union > 0 ? inter / union : 1;
  const iouMse = ((iouPred.dataSync()[0] as number) - iouT) ** 2;
  return 20 * focal + dice + iouMse;
}
