/**
 * SAM 2.1's decoder training step against the official one (`hiera_mini_train_step.safetensors`:
 * dog.jpg, three boxes, train mode, token 0, `20·focal + dice + IoU-MSE + class` on the 256x256
 * logits): the forward outputs, the loss parts and the gradient of every `sam_mask_decoder` tensor,
 * on tfjs (`sam2MicroBatchGradients` on a `Sam2Predictor`, one box per micro-batch, accumulated) and on onnxruntime (`recordSam2TrainGraph`: the
 * ONNX autodiff), from the same `sam2DecoderLoss`.
 *
 * The fixture applies `conv_s0`/`conv_s1` to the RAW neck levels inside the graph, and has only the
 * projected levels (`hiera_mini_outputs.safetensors` `dog.high_res_feats.*`). The step here feeds
 * `feat - bias` and adds the convs' biases in the graph (the same values): every gradient is
 * checked except `conv_s0.weight` and `conv_s1.weight`, which need the raw levels.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  SAM2_DECODER_CONFIG,
  Sam2Predictor,
  compareTensors,
  initBackend,
  sam2OfficialKey,
  sam2PredictorWeights,
  type FloatTensor,
  type WeightMap,
} from '@samtune/sam-model';
import { readSafetensors, readTorchCheckpoint } from '@samtune/tensor-files';
import { createSession, type OnnxGraphOps } from '@samtune/onnx';
import { floatTensor, type HostTensor } from '@samtune/tensor';
import { sharedPath } from './test-utils/fixtures.js';
import { sam2MicroBatchGradients } from './sam2-train-step.js';
import { GradientAccumulator } from './train-step.js';

/** Lets vitest's worker answer its RPC between long synchronous computations. */
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
import { recordSam2TrainGraph, SAM2_PARTS_OUTPUT } from './ort-engine/sam2-training-graph.js';

const STEP_FILE = 'hiera_mini_train_step.safetensors';
const OUT_FILE = 'hiera_mini_outputs.safetensors';
const NEEDS_RAW_LEVELS = ['mask_decoder.conv_s0.weight', 'mask_decoder.conv_s1.weight'];
const PART_NAMES = ['loss', 'loss_focal', 'loss_dice', 'loss_iou', 'loss_class'] as const;
const sam2Path = (name: string): string => sharedPath(join('fixtures', 'sam2-reference', name));

let weights: Map<string, HostTensor>;
let step: WeightMap;
let outs: WeightMap;
const worst = new Map<string, number>();

beforeAll(async () => {
  await initBackend('wasm');
  weights = sam2PredictorWeights(readTorchCheckpoint(sam2Path('sam2.1_hiera_mini_seeded.pt')));
  step = readSafetensors(sam2Path(STEP_FILE)).tensors;
  outs = readSafetensors(sam2Path(OUT_FILE)).tensors;
});

afterAll(() => {
  console.log([...worst].map(([k, r]) => `sam2 train-step ${k}: worst ratio ${r.toFixed(4)}`).join('\n'));
});

function ref(map: WeightMap, file: string, key: string): FloatTensor {
  const t = map.get(key);
  if (!t || t.dtype !== 'float32') throw new Error(`${file}: no float32 tensor '${key}'`);
  return t as FloatTensor;
}
const stepRef = (key: string): FloatTensor => ref(step, STEP_FILE, key);

/** `dog.high_res_feats.<level>` minus its conv's bias (re-added in the graph). */
function featMinusBias(level: 0 | 1): FloatTensor {
  const f = ref(outs, OUT_FILE, `dog.high_res_feats.${level}`);
  const bias = weights.get(`mask_decoder.conv_s${level}.bias`)?.data as Float32Array;
  const plane = (f.shape[2] as number) * (f.shape[3] as number);
  return floatTensor(
    f.data.map((v, i) => v - (bias[Math.floor(i / plane)] as number)),
    f.shape,
  );
}

function check(family: string, key: string, ours: { data: ArrayLike<number> }, want: FloatTensor): void {
  expect(ours.data.length, `${key} size`).toBe(want.data.length);
  const a = compareTensors({ shape: want.shape, data: ours.data }, want);
  worst.set(family, Math.max(worst.get(family) ?? 0, a.ratio));
  expect(a.ok, `${key}: ${JSON.stringify(a)}`).toBe(true);
}

/** Checks the forward outputs, the loss parts and every gradient but the raw-level convs' weights. */
function checkStep(
  exec: string,
  r: Record<string, { data: ArrayLike<number> }>,
  grads: Map<string, { data: ArrayLike<number> }>,
): void {
  check('low_res_masks', `${exec} low_res_masks`, r.masks!, stepRef('low_res_masks'));
  check('iou_predictions', `${exec} iou_predictions`, r.iou!, stepRef('iou_predictions'));
  check('object_score_logits', `${exec} object_score_logits`, r.objectScore!, stepRef('object_score_logits'));
  check('sparse_embeddings', `${exec} sparse_embeddings`, r.sparse!, stepRef('sparse_embeddings'));
  PART_NAMES.forEach((name, i) =>
    check('loss parts', `${exec} ${name}`, { data: [r.parts!.data[i] as number] }, stepRef(name)),
  );
  const decoderKeys = [...weights.keys()].filter((k) => k.startsWith('mask_decoder.'));
  expect(decoderKeys).toHaveLength(131);
  let compared = 0;
  for (const key of decoderKeys) {
    if (NEEDS_RAW_LEVELS.includes(key)) continue;
    const g = grads.get(key);
    if (!g) throw new Error(`${exec}: no gradient for '${key}'`);
    check('grad', `${exec} grad ${key}`, g, stepRef(`grad.${sam2OfficialKey(key)}`));
    compared++;
  }
  expect(compared).toBe(129);
}

describe('SAM 2.1 decoder train step vs the official step (hiera_mini, dog, 3 boxes)', () => {
  it('tfjs: sam2MicroBatchGradients on a Sam2Predictor, the 3 boxes as 3 micro-batches of scale 1/3', async () => {
    const dec = new Sam2Predictor({ weights });
    const acc = new GradientAccumulator();
    try {
      const rows: Record<string, Float32Array[]> = { masks: [], iou: [], objectScore: [], sparse: [] };
      const sums = new Float32Array(5);
      const per = 256 * 256;
      for (let i = 0; i < 3; i++) {
        const { grads, parts } = sam2MicroBatchGradients(
          dec,
          (ops) => {
            const level = (l: 0 | 1, c: number): tf.Tensor => {
              const f = featMinusBias(l);
              const bias = ops.reshape(ops.param(`mask_decoder.conv_s${l}.bias`), [1, c, 1, 1]);
              return ops.add(tf.tensor(f.data, [...f.shape]), bias);
            };
            const e = ref(outs, OUT_FILE, 'dog.image_embeddings');
            return {
              embedding: tf.tensor(e.data, [...e.shape]),
              highResFeatures: [level(0, 32), level(1, 64)],
              boxes: tf.tensor(stepRef('boxes_1024').data.slice(4 * i, 4 * i + 4), [1, 4]),
              targets: tf.tensor(stepRef('gt_masks').data.slice(per * i, per * (i + 1)), [1, 1, 256, 256]),
              multimask: false,
            };
          },
          1 / 3,
          {},
          (r) => {
            rows.masks?.push(r.masks.dataSync() as Float32Array);
            rows.iou?.push(r.iouPredictions.dataSync() as Float32Array);
            rows.objectScore?.push(r.objectScore.dataSync() as Float32Array);
            rows.sparse?.push(r.sparse.dataSync() as Float32Array);
          },
        );
        acc.add(grads);
        [parts.loss, parts.focal, parts.dice, parts.iou, parts.class].forEach(
          (v, k) => (sums[k] = (sums[k] ?? 0) + v / 3),
        );
        await tick(); // lets vitest's worker answer its RPC between long synchronous steps (busy machines)
      }
      const cat = (xs: Float32Array[] = []): { data: Float32Array } => {
        const out = new Float32Array(xs.reduce((n, x) => n + x.length, 0));
        xs.reduce((o, x) => (out.set(x, o), o + x.length), 0);
        return { data: out };
      };
      const summed = acc.take();
      const host = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, cat(v)]));
      checkStep(
        'tfjs',
        { ...host, parts: { data: sums } },
        new Map(Object.entries(summed).map(([k, g]) => [k, { data: g.dataSync() }])),
      );
      tf.dispose(Object.values(summed));
    } finally {
      acc.dispose();
      dec.dispose();
    }
  });

  it('ort: recordSam2TrainGraph (ONNX autodiff) on onnxruntime', async () => {
    const biasLevel = (ops: OnnxGraphOps, l: 0 | 1, shape: readonly number[]) =>
      ops.add(
        ops.input(`high_res_${l}_minus_bias`, shape),
        ops.reshape(ops.param(`mask_decoder.conv_s${l}.bias`), [1, shape[1] as number, 1, 1]),
      );
    const f0 = featMinusBias(0);
    const f1 = featMinusBias(1);
    const graph = recordSam2TrainGraph(
      SAM2_DECODER_CONFIG,
      weights,
      { batch: 3, numPoints: 0, box: true, multimask: false },
      (ops) => [biasLevel(ops, 0, f0.shape), biasLevel(ops, 1, f1.shape)],
    );
    expect(graph.paramKeys).toHaveLength(129); // the convs' weights are not in this graph
    const session = await createSession(graph.bytes, { intraOpNumThreads: 2 });
    try {
      const feeds: Record<string, HostTensor> = {
        image_embeddings: ref(outs, OUT_FILE, 'dog.image_embeddings'),
        high_res_0_minus_bias: f0,
        high_res_1_minus_bias: f1,
        boxes: floatTensor(stepRef('boxes_1024').data, [3, 4]),
        targets: stepRef('gt_masks'),
        loss_scale: floatTensor(Float32Array.of(1), [1]),
      };
      for (const k of graph.paramKeys) feeds[k] = weights.get(k) as HostTensor;
      const out = await session.run(feeds);
      const grads = new Map(graph.paramKeys.map((k) => [k, out[`grad.${k}`] as FloatTensor]));
      checkStep(
        'ort',
        {
          masks: out.masks!,
          iou: out.iou!,
          objectScore: out.object_score!,
          sparse: out.sparse!,
          parts: out[SAM2_PARTS_OUTPUT]!,
        },
        grads,
      );
    } finally {
      await session.release();
    }
  });
});
