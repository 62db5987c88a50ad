/**
 * The ort training engine (`OrtTrainEngine`: forward + loss + backward + Adam as onnxruntime-node
 * graphs) against the official one-step training fixture `tinyvit_train_step.safetensors` (three
 * boxes on dog.jpg, MobileSAM's decoder, loss 20*focal + dice + iou_mse on the 256x256 logits), the
 * same checks as train-step.test.ts does for the tfjs engine; single-point (multimask, best of 3)
 * prompts and the Adam step are compared with the tfjs engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compareTensors, SAM_PRESETS, SamPredictor } from '@samtune/sam-model';
import { readTorchCheckpoint } from '@samtune/tensor-files';
import type { FloatTensor, WeightMap } from '@samtune/sam-model';
import { setupRuntime } from '@samtune/evaluation';
import { OrtTrainEngine } from './ort-engine/engine.js';
import { Adam } from './optimizer.js';
import { TrainState } from './engine/train-state.js';
import { microBatchGradients, type DecoderPromptBatch, type LossParts } from './train-step.js';
import { fixtureTensor, readFixture, referencePath } from './test-utils/fixtures.js';

let weights: WeightMap;
let step: WeightMap;
let embedding: FloatTensor;
let engine: OrtTrainEngine;
const worst = new Map<string, number>();

beforeAll(async () => {
  await setupRuntime('wasm', true);
  step = readFixture('tinyvit_train_step.safetensors');
  embedding = fixtureTensor(
    readFixture('tinyvit_outputs.safetensors'),
    'tinyvit_outputs.safetensors',
    'dog.image_embeddings',
  );
  weights = readTorchCheckpoint(referencePath('tinyvit.pth'));
  engine = new OrtTrainEngine({ config: SAM_PRESETS.tiny_vit, weights, adam: { lr: 1e-4 } });
});

afterAll(() => {
  engine?.dispose();
  console.log([...worst].map(([k, r]) => `ort train-step ${k}: worst ratio ${r.toFixed(4)}`).join('\n'));
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

/** The loss parts against the fixture's `loss`, `loss_focal`, `loss_dice`, `loss_iou`. */
function recordParts(family: string, parts: LossParts): void {
  for (const [name, value] of [
    ['loss', parts.loss],
    ['loss_focal', parts.focal],
    ['loss_dice', parts.dice],
    ['loss_iou', parts.iou],
  ] as const)
    record(family, name, { shape: [1], data: [value] }, ref(name));
}

/** Rows [from, to) of the fixture's boxes/targets as a prompt batch. */
function slice(from: number, to: number): { batch: DecoderPromptBatch; targets: Float32Array } {
  const per = 256 * 256;
  return {
    batch: { size: to - from, boxes: ref('boxes_1024').data.slice(from * 4, to * 4), numPoints: 0 },
    targets: ref('gt_masks').data.slice(from * per, to * per),
  };
}

/** Lets vitest's worker answer its RPC between long synchronous computations (busy machines). */
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

const mdKeys = (): string[] => [...weights.keys()].filter((k) => k.startsWith('mask_decoder.'));

describe('ort engine: train step parity (tinyvit_train_step.safetensors)', () => {
  it('one micro-batch of 3 boxes: loss parts and every mask-decoder gradient', async () => {
    await tick();
    const { batch, targets } = slice(0, 3);
    const parts = engine.accumulate(embedding, batch, targets, 1);
    recordParts('loss', parts);
    const grads = engine.gradients();
    const refKeys = [...step.keys()].filter((k) => k.startsWith('grad.mask_decoder.'));
    expect(grads.size).toBe(mdKeys().length);
    expect(refKeys.length).toBe(grads.size);
    for (const [key, g] of grads) record('grad', `grad.${key}`, g, ref(`grad.${key}`));
  });

  it('micro-batches [2,1] with scales 2/3 and 1/3, accumulated, give the full-batch gradients', async () => {
    await tick();
    engine.step(); // clears the accumulator of the previous test (weights move; restored below)
    engine.setWeights(weights as ReadonlyMap<string, FloatTensor>);
    for (const [from, to] of [
      [0, 2],
      [2, 3],
    ] as const) {
      const { batch, targets } = slice(from, to);
      engine.accumulate(embedding, batch, targets, (to - from) / 3);
      await tick();
    }
    for (const [key, g] of engine.gradients()) record('grad (accumulated)', `grad.${key}`, g, ref(`grad.${key}`));
  });

  it('3 boxes with an arena only for single prompts run prompt by prompt: the same loss parts and gradients', async () => {
    await tick();
    const e = new OrtTrainEngine({ config: SAM_PRESETS.tiny_vit, weights, adam: { lr: 1e-4 }, memArenaBatches: [1] });
    try {
      const { batch, targets } = slice(0, 3);
      const parts = e.accumulate(embedding, batch, targets, 1);
      recordParts('loss (prompt by prompt)', parts);
      for (const [key, g] of e.gradients()) record('grad (prompt by prompt)', `grad.${key}`, g, ref(`grad.${key}`));
    } finally {
      e.dispose();
    }
  });

  it('with the memory arena (memArenaBatches), a reused and a reloaded session give the same loss and gradients', async () => {
    await tick();
    const e = new OrtTrainEngine({ config: SAM_PRESETS.tiny_vit, weights, adam: { lr: 1e-4 }, memArenaBatches: [3] });
    try {
      const { batch, targets } = slice(0, 3);
      const first = e.accumulate(embedding, batch, targets, 1);
      const g1 = e.gradients();
      for (const [key, g] of g1) record('grad (arena)', `grad.${key}`, g, ref(`grad.${key}`));
      e.step();
      e.setWeights(weights as ReadonlyMap<string, FloatTensor>);
      await tick();
      expect(e.accumulate(embedding, batch, targets, 1)).toEqual(first);
      const same = (): void => {
        for (const [key, g] of e.gradients()) {
          const before = g1.get(key)?.data as Float32Array;
          const differing = g.data.findIndex((x, i) => x !== before[i]);
          expect(differing, `${key}: first differing index`).toBe(-1);
        }
      };
      same();
      // released between epochs, then reloaded from the recorded model
      e.step();
      e.setWeights(weights as ReadonlyMap<string, FloatTensor>);
      e.releaseArenas();
      await tick();
      expect(e.accumulate(embedding, batch, targets, 1)).toEqual(first);
      same();
    } finally {
      e.dispose();
    }
  });

  it('the Adam step equals the tfjs Adam on the same gradients (torch semantics, bias correction)', async () => {
    await tick();
    const fresh = new OrtTrainEngine({ config: SAM_PRESETS.tiny_vit, weights, adam: { lr: 1e-4 } });
    const vars = Object.fromEntries(
      mdKeys().map((k) => [
        k,
        tf.variable(tf.tensor(weights.get(k)?.data as Float32Array, [...(weights.get(k)?.shape ?? [])])),
      ]),
    );
    const adam = new Adam(vars, { lr: 1e-4 });
    try {
      for (let s = 0; s < 2; s++) {
        const { batch, targets } = slice(0, 3);
        fresh.accumulate(embedding, batch, targets, 1);
        const grads = fresh.gradients();
        tf.tidy(() => adam.step(Object.fromEntries([...grads].map(([k, g]) => [k, tf.tensor(g.data, [...g.shape])]))));
        fresh.step();
        await tick();
      }
      expect(fresh.iterations).toBe(2);
      const w = fresh.weights();
      for (const k of mdKeys()) {
        const want = vars[k] as tf.Variable;
        record('adam weights', k, w.get(k) as FloatTensor, {
          dtype: 'float32',
          shape: want.shape,
          data: want.dataSync() as Float32Array,
        });
      }
      const state = TrainState.fromCheckpoint(weights);
      fresh.read(state);
      const st = state.adamState();
      const ts = adam.state();
      expect(st.steps).toEqual(ts.steps);
      // the state read back is the engine's: a fresh engine loaded from it holds the same weights and count
      const again = new OrtTrainEngine({ config: SAM_PRESETS.tiny_vit, weights, adam: { lr: 1e-4 } });
      again.load(state);
      expect(again.iterations).toBe(2);
      for (const [k, t] of again.weights()) expect(t.data).toEqual(w.get(k)?.data);
      again.dispose();
    } finally {
      fresh.dispose();
      adam.dispose();
      for (const v of Object.values(vars)) v.dispose();
    }
  });

  it('single-point prompts (multimask, best of 3 by loss): loss parts and gradients equal the tfjs engine', async () => {
    await tick();
    engine.step();
    engine.setWeights(weights as ReadonlyMap<string, FloatTensor>);
    const boxes = ref('boxes_1024').data;
    const coords = Float32Array.from(
      [0, 1].flatMap((i) => [
        ((boxes[i * 4] as number) + (boxes[i * 4 + 2] as number)) / 2,
        ((boxes[i * 4 + 1] as number) + (boxes[i * 4 + 3] as number)) / 2,
      ]),
    );
    const batch: DecoderPromptBatch = { size: 2, coords, labels: Float32Array.from([1, 1]), numPoints: 1 };
    const { targets } = slice(0, 2);
    const parts = engine.accumulate(embedding, batch, targets, 1);
    await tick();
    const predictor = new SamPredictor({ config: SAM_PRESETS.tiny_vit, weights });
    try {
      tf.tidy(() => {
        const emb = tf.tensor(embedding.data, [...embedding.shape]);
        const r = microBatchGradients(predictor, emb, batch, tf.tensor(targets, [2, 1, 256, 256]));
        for (const name of ['loss', 'focal', 'dice', 'iou'] as const)
          record(
            'point loss',
            name,
            { shape: [1], data: [parts[name]] },
            { dtype: 'float32', shape: [1], data: Float32Array.of(r.parts[name]) },
          );
        const ours = engine.gradients();
        for (const [key, g] of r.grads)
          record('point grad', key, ours.get(key) as FloatTensor, {
            dtype: 'float32',
            shape: g.shape,
            data: g.dataSync() as Float32Array,
          });
      });
    } finally {
      predictor.dispose();
    }
  });
});
