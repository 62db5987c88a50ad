/**
 * `sam2LossOn` against the official SAM 2 loss (`training/loss_fns.py::MultiStepMultiMasksAndIous`,
 * `../shared/fixtures/sam2-reference/`): `loss.safetensors` `single.*` (MSE IoU, one mask) and
 * `multi.*` (L1 IoU, `supervise_all_iou`, best of 3 masks), with an empty target (object 3) in both:
 * the loss parts and the gradients of the logits, the IoU predictions and the object scores, on tfjs
 * (TfjsOps + tf.grads) and recorded by OnnxGraphOps, differentiated by the ONNX autodiff and run on
 * onnxruntime; and the loss parts of the train step from its `low_res_masks` / `gt_masks`.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { sharedPath } from '@samtune/test-fixtures';
import { compareTensors, initBackend, type FloatTensor, type WeightMap } from '@samtune/sam-model';
import { readSafetensors } from '@samtune/tensor-files';
import { TfjsOps } from '@samtune/sam-model/modeling';
import { OnnxGraphBuilder, OnnxGraphOps, buildGradientGraph, createSession } from '@samtune/onnx';
import { sam2LossOn, type Sam2LossConfig } from './sam2-loss-on.js';
import { LossShapeError } from './sam-loss-on.js';

const PARTS = ['loss', 'focal', 'dice', 'iou', 'class'] as const;
const INPUTS = ['logits', 'iou_predictions', 'object_score_logits', 'targets'] as const;
const WRT = ['logits', 'iou_predictions', 'object_score_logits'] as const;
type Result = Record<string, FloatTensor>;

function fixture(name: string): WeightMap {
  return readSafetensors(sharedPath(join('fixtures', 'sam2-reference', name))).tensors;
}

function need(map: WeightMap, key: string): FloatTensor {
  const t = map.get(key);
  if (!t || t.dtype !== 'float32') throw new Error(`sam2-reference fixture: no float32 tensor '${key}'`);
  return t as FloatTensor;
}

const host = (t: tf.Tensor): FloatTensor => ({
  dtype: 'float32',
  shape: [...t.shape],
  data: t.dataSync() as Float32Array,
});

/** The loss parts (and the gradients of `WRT`) on tfjs. */
function onTfjs(xs: FloatTensor[], config: Sam2LossConfig): Result {
  const ops = new TfjsOps(new Map());
  const out: Result = {};
  tf.tidy(() => {
    const [logits, iou, obj, targets] = xs.map((x) => tf.tensor(x.data, [...x.shape]));
    const f = (l: tf.Tensor, i: tf.Tensor, o: tf.Tensor) => sam2LossOn(ops, l, i, o, targets as tf.Tensor, config);
    const parts = f(logits as tf.Tensor, iou as tf.Tensor, obj as tf.Tensor);
    for (const p of PARTS) out[p] = host(parts[p]);
    const grads = tf.grads((l: tf.Tensor, i: tf.Tensor, o: tf.Tensor) => f(l, i, o).loss)([
      logits as tf.Tensor,
      iou as tf.Tensor,
      obj as tf.Tensor,
    ]);
    WRT.forEach((name, k) => (out[`grad.${name}`] = host(grads[k] as tf.Tensor)));
  });
  return out;
}

/** The same, recorded by OnnxGraphOps, differentiated by the ONNX autodiff, run on onnxruntime. */
async function onOrt(xs: FloatTensor[], config: Sam2LossConfig): Promise<Result> {
  const ops = new OnnxGraphOps(new Map(), new OnnxGraphBuilder({ name: 'sam2_loss' }));
  const [logits, iou, obj, targets] = xs.map((x, k) => ops.input(INPUTS[k] as string, x.shape));
  const parts = sam2LossOn(ops, logits!, iou!, obj!, targets!, config);
  for (const p of PARTS) ops.output(p, parts[p]);
  buildGradientGraph(ops.builder, { loss: parts.loss.name, wrt: [...WRT], addOutputs: true });
  const session = await createSession(ops.builder.toModelBytes(), { intraOpNumThreads: 1 });
  try {
    return await session.run(Object.fromEntries(xs.map((x, k) => [INPUTS[k] as string, x])));
  } finally {
    await session.release();
  }
}

const REF_NAME: Record<string, string> = {
  loss: 'loss',
  focal: 'loss_focal',
  dice: 'loss_dice',
  iou: 'loss_iou',
  class: 'loss_class',
};

function expectAll(label: string, ours: Result, ref: (key: string) => FloatTensor, keys: readonly string[]): void {
  const ratios: Record<string, number> = {};
  for (const k of keys) {
    const r = ref(REF_NAME[k] ?? k);
    const o = ours[k];
    if (!o) throw new Error(`${label}: no output '${k}'`);
    const a = compareTensors({ shape: r.shape, data: o.data }, r);
    ratios[k] = Number(a.ratio.toFixed(4));
    expect(o.data.length, `${label} ${k} size`).toBe(r.data.length);
    expect(a.ok, `${label} ${k}: ${JSON.stringify(a)}`).toBe(true);
  }
  console.log(label, ratios);
}

const CASES: readonly (readonly [string, Sam2LossConfig])[] = [
  ['single', {}],
  ['multi', { iouL1: true, superviseAllIou: true }],
];

describe.each(['tfjs', 'ort'] as const)('sam2LossOn vs the official SAM 2 loss (%s)', (exec) => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it.each(CASES)('loss.safetensors %s.*: parts and gradients', async (prefix, config) => {
    const fx = fixture('loss.safetensors');
    const xs = INPUTS.map((k) => need(fx, `${prefix}.${k}`));
    const targets = xs[3] as FloatTensor;
    const [n, h, w] = targets.shape as [number, number, number];
    xs[3] = { ...targets, shape: [n, 1, h, w] };
    const out = exec === 'tfjs' ? onTfjs(xs, config) : await onOrt(xs, config);
    expectAll(`${exec} ${prefix}`, out, (k) => need(fx, `${prefix}.${k}`), [...PARTS, ...WRT.map((k) => `grad.${k}`)]);
  });

  it('hiera_mini_train_step.safetensors: the loss parts of the step from its outputs', async () => {
    const fx = fixture('hiera_mini_train_step.safetensors');
    const xs = ['low_res_masks', 'iou_predictions', 'object_score_logits', 'gt_masks'].map((k) => need(fx, k));
    const out = exec === 'tfjs' ? onTfjs(xs, {}) : await onOrt(xs, {});
    expectAll(`${exec} train step`, out, (k) => need(fx, k), PARTS);
  });
});

describe('sam2LossOn shape errors', () => {
  it('names the function, the argument and both shapes', () => {
    const ops = new TfjsOps(new Map());
    const x = tf.zeros([2, 1, 4, 4]);
    expect(() => sam2LossOn(ops, x, tf.zeros([2, 1]), tf.zeros([2]), x)).toThrow(LossShapeError);
    expect(() => sam2LossOn(ops, x, tf.zeros([2, 1]), tf.zeros([2]), x)).toThrow(
      /sam2LossOn\(objectScoreLogits\): expected \[2,1\], got \[2\]/,
    );
    expect(() => sam2LossOn(ops, x, tf.zeros([2, 2]), tf.zeros([2, 1]), x)).toThrow(
      /sam2LossOn\(iouPredictions\): expected \[2,1\] for logits \[2,1,4,4\], got \[2,2\]/,
    );
  });
});
