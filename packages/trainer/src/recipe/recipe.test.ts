/**
 * The recipe from the config to a micro-batch: the `loss.resolution` / `prompt.iterations` keys and
 * flags, the ort engine's refusal, the original-size targets and `recipeGradients` on the tfjs engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { SAM_PRESETS, SamPredictor } from '@samtune/sam-model';
import { readTorchCheckpoint } from '@samtune/tensor-files';
import { ResizeGeometry } from '@samtune/transforms';
import { setupRuntime } from '@samtune/evaluation';
import { type PromptSpec, type TrainItem } from '@samtune/training-data';
import {
  applyOverride,
  defaultTrainConfig,
  mergeConfig,
  TrainConfigError,
  validateTrainConfig,
  type TrainConfig,
} from '../config.js';
import { decoderLoss, microBatchGradients } from '../train-step.js';
import { fixtureTensor, readFixture, referencePath } from '../test-utils/fixtures.js';
import { checkRecipeEngine, RecipeUnsupportedError } from './options.js';
import { microBatchRecipe, recipeGradients, RecipeInputError } from './recipe.js';
import { originalLossFrame } from './loss-resolution.js';

function config(engine: 'ort' | 'tfjs'): TrainConfig {
  const c = defaultTrainConfig();
  c.checkpoint = 'tiny_vit';
  c.data.root = '/data';
  c.out = '/runs/x';
  c.runtime.engine = engine;
  return c;
}

describe('config keys loss.resolution and prompt.iterations', () => {
  it('default to lowres and 0, and take dotted overrides and YAML', () => {
    const c = config('tfjs');
    expect(c.loss.resolution).toBe('lowres');
    expect(c.prompt.iterations).toBe(0);
    applyOverride(c, 'loss.resolution', 'original');
    applyOverride(c, 'prompt.iterations', '3');
    expect([c.loss.resolution, c.prompt.iterations]).toEqual(['original', 3]);
    const y = config('tfjs');
    mergeConfig(y, { loss: { resolution: 'original' }, prompt: { iterations: 2 } });
    expect(validateTrainConfig(y).prompt.iterations).toBe(2);
  });

  it('a config saved before the keys existed (a resumed run) validates with the defaults', () => {
    const old = config('ort') as unknown as Record<string, unknown> & { prompt: Record<string, unknown> };
    delete old.loss;
    delete old.prompt.iterations;
    const c = validateTrainConfig(old as unknown as TrainConfig);
    expect([c.loss.resolution, c.prompt.iterations]).toEqual(['lowres', 0]);
  });

  it('reject bad values naming the key', () => {
    const c = config('tfjs');
    applyOverride(c, 'loss.resolution', 'full');
    expect(() => validateTrainConfig(c)).toThrow(
      new TrainConfigError(`config 'loss.resolution': expected lowres or original, got "full"`),
    );
    const d = config('tfjs');
    applyOverride(d, 'prompt.iterations', '1.5');
    expect(() => validateTrainConfig(d)).toThrow(
      `config 'prompt.iterations': expected an integer >= 0 (0 = off), got 1.5`,
    );
    expect(() => applyOverride(d, 'prompt.iterations', 'two')).toThrow(
      `config 'prompt.iterations': expected a number, got 'two'`,
    );
  });

  it('both engines take both; an engine named as lacking them refuses with an unsupported error', () => {
    const c = config('ort');
    applyOverride(c, 'loss.resolution', 'original');
    applyOverride(c, 'prompt.iterations', '2');
    expect(validateTrainConfig(c).prompt.iterations).toBe(2);
    let err: unknown;
    try {
      checkRecipeEngine('plain', { resolution: 'original', iterations: 2 }, ['plain']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RecipeUnsupportedError);
    expect((err as RecipeUnsupportedError).kind).toBe('unsupported');
    expect((err as Error).message).toBe(
      "training engine 'plain' does not support loss.resolution original and prompt.iterations 2; use --engine " +
        'ort or tfjs, or keep loss.resolution lowres and prompt.iterations 0',
    );
    expect(() => checkRecipeEngine('plain', { resolution: 'lowres', iterations: 0 }, ['plain'])).not.toThrow();
    expect(() => checkRecipeEngine('ort', { resolution: 'original', iterations: 1 })).not.toThrow();
    applyOverride(c, 'runtime.engine', 'tfjs');
    expect(validateTrainConfig(c).loss.resolution).toBe('original');
  });
});

/** An item of (H,W) = (6,8) with two rectangle instances. */
function tinyItem(): TrainItem {
  const mask = (x0: number, x1: number) => ({
    width: 8,
    height: 6,
    data: Uint8Array.from({ length: 48 }, (_, i) => (i % 8 >= x0 && i % 8 < x1 ? 255 : 0)),
  });
  return {
    id: 'img',
    imagePath: '/img.png',
    width: 8,
    height: 6,
    instances: [
      { id: 'a', mask: () => mask(0, 3) },
      { id: 'b', mask: async () => mask(4, 8) },
    ],
  };
}
const spec = (id: string): PromptSpec => ({
  target: { instanceId: id, box: [0, 0, 1, 1], lowRes: new Uint8Array(65536) },
  box: [0, 0, 1, 1],
});

describe('microBatchRecipe', () => {
  const geometry = new ResizeGeometry([6, 8]);
  it('is undefined for the default recipe, and carries the seed and labels otherwise', async () => {
    const item = tinyItem();
    expect(await microBatchRecipe({ resolution: 'lowres', iterations: 0 }, item, [spec('a')], geometry, 0, 1)).toBe(
      undefined,
    );
    const r = await microBatchRecipe({ resolution: 'lowres', iterations: 2 }, item, [spec('b')], geometry, 7, 3);
    expect(r?.originalTargets).toBe(undefined);
    expect([r?.seed, r?.labels]).toEqual([7, ['clicks', 3, 'img', 'b']]);
  });

  it('with original, holds the chunk instances masks at the original size as 0/1, [B*H*W]', async () => {
    const r = await microBatchRecipe(
      { resolution: 'original', iterations: 0 },
      tinyItem(),
      [spec('b'), spec('a')],
      geometry,
      0,
      1,
    );
    const t = r?.originalTargets as Float32Array;
    expect(t.length).toBe(2 * 48);
    expect([...t.subarray(0, 8)]).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect([...t.subarray(48, 56)]).toEqual([1, 1, 1, 0, 0, 0, 0, 0]);
    await expect(
      microBatchRecipe({ resolution: 'original', iterations: 0 }, tinyItem(), [spec('zz')], geometry, 0, 1),
    ).rejects.toThrow(RecipeInputError);
  });
});

describe('recipeGradients (tinyvit decoder, dog.jpg 534x800)', () => {
  let predictor: SamPredictor;
  let emb: tf.Tensor;
  let box: Float32Array;
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
    box = fixtureTensor(
      readFixture('tinyvit_train_step.safetensors'),
      'tinyvit_train_step.safetensors',
      'boxes_1024',
    ).data.slice(0, 4);
  });
  afterAll(() => {
    emb?.dispose();
    predictor?.dispose();
  });

  it('original: the loss of the post-processed logits against the original mask, and every decoder gradient', () => {
    const [H, W] = [534, 800];
    const original = new Float32Array(H * W);
    for (let y = 100; y < 400; y++) for (let x = 150; x < 560; x++) original[y * W + x] = 1;
    const lowRes = new Float32Array(65536);
    const batch = { size: 1, boxes: box, numPoints: 0 } as const;
    const m = {
      recipe: { resolution: 'original', iterations: 0 },
      geometry,
      originalTargets: original,
      seed: 0,
      labels: ['t'],
    } as const;
    const { grads, parts } = recipeGradients(predictor, emb, batch, lowRes, 1, m);
    expect(grads.size).toBe(predictor.trainableVariables().size);
    for (const g of grads.values()) expect(Number.isFinite(g.sum().dataSync()[0])).toBe(true);
    const direct = tf.tidy(() => {
      const r = decoderLoss(
        predictor,
        emb,
        batch,
        tf.tensor(original, [1, 1, H, W]),
        {},
        { toLossFrame: originalLossFrame(geometry) },
      );
      return [r.loss, r.focal, r.dice, r.iou].map((s) => s.dataSync()[0] as number);
    });
    expect([parts.loss, parts.focal, parts.dice, parts.iou]).toEqual(direct);
    // it is not the low-res loss
    const low = microBatchGradients(predictor, emb, batch, tf.zeros([1, 1, 256, 256]));
    expect(low.parts.loss).not.toBeCloseTo(parts.loss, 3);
    tf.dispose([...grads.values(), ...low.grads.values()]);
  });
});
