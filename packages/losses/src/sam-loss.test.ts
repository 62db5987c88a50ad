import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compareTensors, initBackend, type FloatTensor, type WeightMap } from '@samtune/sam-model';
import { readSafetensors } from '@samtune/tensor-files';
import { referencePath } from './test-utils/fixtures.js';
import { samLoss } from './test-utils/tfjs-loss.js';

type FixtureTensor = FloatTensor;

function need(map: WeightMap, key: string, file: string): FixtureTensor {
  const t = map.get(key);
  if (!t) throw new Error(`fixture ${file} has no tensor '${key}'`);
  if (t.dtype !== 'float32') throw new Error(`fixture ${file}: tensor '${key}' is ${t.dtype}, expected float32`);
  return t as FixtureTensor;
}

const toTf = (t: FixtureTensor): tf.Tensor => tf.tensor(t.data, [...t.shape], 'float32');
/** The fixtures store scalars as [1]. */
const asRef = (t: tf.Tensor): { shape: number[]; data: Float32Array } => ({
  shape: t.rank === 0 ? [1] : t.shape,
  data: t.dataSync() as Float32Array,
});

function expectAgreement(label: string, ours: tf.Tensor, ref: FixtureTensor, ratios: Record<string, number>): void {
  const a = compareTensors(asRef(ours), ref);
  ratios[label] = a.ratio;
  expect(a.ok, `${label}: max|diff| ${a.maxAbsDiff} > tol ${a.tolerance}`).toBe(true);
}

describe.each(['cpu', 'wasm'] as const)('samLoss parity with the PyTorch reference (%s backend)', (backend) => {
  beforeAll(async () => {
    expect((await initBackend(backend)).name).toBe(backend);
  });

  it('loss.safetensors: loss, parts and gradients for logits and iou_predictions', () => {
    const file = 'loss.safetensors';
    const fx = readSafetensors(referencePath(file)).tensors;
    const logits = toTf(need(fx, 'logits', file));
    const targets = toTf(need(fx, 'targets', file));
    const iouPred = toTf(need(fx, 'iou_predictions', file));
    const ratios: Record<string, number> = {};
    const parts = samLoss(logits, targets, iouPred);
    expectAgreement('loss', parts.loss, need(fx, 'loss', file), ratios);
    expectAgreement('loss_focal', parts.focal, need(fx, 'loss_focal', file), ratios);
    expectAgreement('loss_dice', parts.dice, need(fx, 'loss_dice', file), ratios);
    expectAgreement('loss_iou', parts.iou, need(fx, 'loss_iou', file), ratios);
    const [gLogits, gIou] = tf.grads((x: tf.Tensor, i: tf.Tensor) => samLoss(x, targets, i).loss)([logits, iouPred]);
    expectAgreement('grad.logits', gLogits as tf.Tensor, need(fx, 'grad.logits', file), ratios);
    expectAgreement('grad.iou_predictions', gIou as tf.Tensor, need(fx, 'grad.iou_predictions', file), ratios);
    console.log(`[${backend}] ${file} ratios`, ratios);
    tf.dispose([logits, targets, iouPred, parts.loss, parts.focal, parts.dice, parts.iou, gLogits, gIou]);
  });

  it('tinyvit_train_step.safetensors: the loss of the decoder step from low_res_masks and gt_masks', () => {
    const file = 'tinyvit_train_step.safetensors';
    const fx = readSafetensors(referencePath(file)).tensors;
    const logits = toTf(need(fx, 'low_res_masks', file));
    const targets = toTf(need(fx, 'gt_masks', file));
    const iouPred = toTf(need(fx, 'iou_predictions', file));
    expect(logits.shape).toEqual([3, 1, 256, 256]);
    const ratios: Record<string, number> = {};
    const parts = samLoss(logits, targets, iouPred);
    expectAgreement('loss', parts.loss, need(fx, 'loss', file), ratios);
    expectAgreement('loss_focal', parts.focal, need(fx, 'loss_focal', file), ratios);
    expectAgreement('loss_dice', parts.dice, need(fx, 'loss_dice', file), ratios);
    expectAgreement('loss_iou', parts.iou, need(fx, 'loss_iou', file), ratios);
    console.log(`[${backend}] ${file} ratios`, ratios);
    tf.dispose([logits, targets, iouPred, parts.loss, parts.focal, parts.dice, parts.iou]);
  });
});
