/**
 * The trainable path: SamPredictor.decode inside tf.variableGrads reproduces the official one-step
 * training fixture (tinyvit_train_step.safetensors): forward outputs, the loss, and the gradient of
 * every mask-decoder tensor. The loss (20*focal + dice + iou_mse, mean over masks) is written here
 * from the fixture README so this test does not depend on the losses package.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readSafetensors, readTorchCheckpoint } from '@samtune/tensor-files';
import { compareTensors } from './compare.js';
import { SAM_PRESETS } from './config.js';
import { initBackend } from './ops/backend.js';
import { SamPredictor } from './predictor.js';
import { promptEncoder } from './prompt-encoder.js';
import type { FloatTensor, WeightMap } from '@samtune/tensor';
import { readOutputs, refTensor } from './test-utils/decoder-cases.js';
import { referencePath } from './test-utils/fixtures.js';

let predictor: SamPredictor;
let step: WeightMap;
let embedding: FloatTensor;

beforeAll(async () => {
  await initBackend('wasm');
  step = readSafetensors(referencePath('tinyvit_train_step.safetensors')).tensors;
  embedding = refTensor(readOutputs('tinyvit'), 'tinyvit', 'dog.image_embeddings');
  predictor = new SamPredictor({
    config: SAM_PRESETS.tiny_vit,
    weights: readTorchCheckpoint(referencePath('tinyvit.pth')),
  });
});

afterAll(() => predictor?.dispose());

function ref(key: string): FloatTensor {
  return refTensor(step, 'tinyvit_train', key);
}

/** Fixture loss on `logits [B,1,256,256]`, `target` same, `iouPred [B,1]`: returns [total, focal, dice, iou]. */
function loss(logits: tf.Tensor, target: tf.Tensor, iouPred: tf.Tensor): tf.Scalar[] {
  const b = logits.shape[0] as number;
  const x = tf.reshape(logits, [b, -1]);
  const t = tf.reshape(target, [b, -1]);
  const p = tf.sigmoid(x);
  const ce = tf.add(tf.sub(tf.relu(x), tf.mul(x, t)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
  const pt = tf.add(tf.mul(p, t), tf.mul(tf.sub(1, p), tf.sub(1, t)));
  const alphaT = tf.add(tf.mul(0.25, t), tf.mul(0.75, tf.sub(1, t)));
  const focal = tf.mean(tf.mul(alphaT, tf.mul(ce, tf.square(tf.sub(1, pt)))), 1);
  const dice = tf.sub(
    1,
    tf.div(tf.add(tf.mul(2, tf.sum(tf.mul(p, t), 1)), 1), tf.add(tf.add(tf.sum(p, 1), tf.sum(t, 1)), 1)),
  );
  // IoU target of the thresholded prediction: a constant (re-created from host data, no gradient).
  const bin = tf.cast(tf.greaterEqual(p, 0.5), 'float32');
  const inter = tf.sum(tf.mul(bin, t), 1);
  const union = tf.sub(tf.add(tf.sum(bin, 1), tf.sum(t, 1)), inter);
  const iouTarget = tf.tensor(tf.div(inter, tf.maximum(union, 1e-6)).dataSync(), [b]);
  const iouMse = tf.square(tf.sub(tf.reshape(iouPred, [b]), iouTarget));
  const [f, d, i] = [tf.mean(focal), tf.mean(dice), tf.mean(iouMse)] as tf.Scalar[];
  return [
    tf.addN([tf.mul(20, f as tf.Scalar), d as tf.Scalar, i as tf.Scalar]) as tf.Scalar,
    f as tf.Scalar,
    d as tf.Scalar,
    i as tf.Scalar,
  ];
}

describe('mask decoder training step (tinyvit_train_step.safetensors)', () => {
  it('matches the sparse embeddings, outputs, loss and every mask-decoder gradient', () => {
    const boxes = ref('boxes_1024');
    const ratios = new Map<string, number>();
    const record = (
      family: string,
      key: string,
      ours: { shape: readonly number[]; data: ArrayLike<number> },
      want: FloatTensor,
    ): void => {
      const a = compareTensors(ours, want);
      expect(a.ok, `${key}: ${JSON.stringify(a)}`).toBe(true);
      ratios.set(family, Math.max(ratios.get(family) ?? 0, a.ratio));
    };
    const vars = predictor.trainableVariables();
    const nameToKey = new Map([...vars].map(([k, v]) => [v.name, k]));
    tf.tidy(() => {
      const emb = tf.tensor(embedding.data, [...embedding.shape]);
      const boxT = tf.tensor(boxes.data, [...boxes.shape]);
      const target = tf.tensor(ref('gt_masks').data, [...ref('gt_masks').shape]);
      const sparse = promptEncoder(predictor.ops, predictor.config.promptEncoder, {
        boxes: boxT,
        padPoints: false,
      }).sparse;
      record(
        'sparse_embeddings',
        'sparse_embeddings',
        { shape: sparse.shape, data: sparse.dataSync() },
        ref('sparse_embeddings'),
      );

      let parts: number[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const { masks, iou } = predictor.decode(emb, { boxes: boxT }, false);
        record('low_res_masks', 'low_res_masks', { shape: masks.shape, data: masks.dataSync() }, ref('low_res_masks'));
        record(
          'iou_predictions',
          'iou_predictions',
          { shape: iou.shape, data: iou.dataSync() },
          ref('iou_predictions'),
        );
        const [total, ...rest] = loss(masks, target, iou);
        parts = rest.map((s) => s.dataSync()[0] as number);
        return total as tf.Scalar;
      }, [...vars.values()]);
      record('loss', 'loss', { shape: [1], data: value.dataSync() }, ref('loss'));
      record('loss', 'loss_focal', { shape: [1], data: [parts[0] as number] }, ref('loss_focal'));
      record('loss', 'loss_dice', { shape: [1], data: [parts[1] as number] }, ref('loss_dice'));
      record('loss', 'loss_iou', { shape: [1], data: [parts[2] as number] }, ref('loss_iou'));

      let n = 0;
      for (const [name, g] of Object.entries(grads)) {
        const key = nameToKey.get(name);
        if (!key) throw new Error(`variableGrads returned a gradient for unknown variable '${name}'`);
        record('grad', `grad.${key}`, { shape: g.shape, data: g.dataSync() }, ref(`grad.${key}`));
        n++;
      }
      expect(n).toBe(vars.size);
      expect([...step.keys()].filter((k) => k.startsWith('grad.mask_decoder.')).length).toBe(vars.size);
    });
    console.log([...ratios].map(([f, r]) => `train step ${f}: worst ratio ${r.toFixed(4)}`).join('\n'));
  });
});
