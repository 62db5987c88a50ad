import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  expectedShapes,
  initBackend,
  initWeightsFromShapes,
  loadSamCheckpoint,
  SAM_PRESETS,
  SAMTUNE_CONFIG_KEY,
  BASE_CHECKPOINT_KEY,
  writeSamSafetensors,
} from '@samtune/sam-model';
import { readSafetensors } from '@samtune/tensor-files';
import type { WeightMap } from '@samtune/sam-model';
import {
  CHECKPOINT_META,
  loadRunState,
  RUN_STATE_VERSION,
  saveRunState,
  writeModelCheckpoint,
  type RunStateMeta,
} from './checkpoints.js';
import { defaultTrainConfig } from './config.js';
import { EarlyStopping } from './early-stopping.js';
import { Adam } from './optimizer.js';

/** Any host tensor data as plain numbers. */
const nums = (d: ArrayLike<number | bigint> | undefined): number[] => Array.from(d ?? [], Number);
const tmp = mkdtempSync(join(tmpdir(), 'samtune-ckpt-'));
const config = SAM_PRESETS.tiny_vit;
let base: WeightMap;
let decoder: WeightMap;

beforeAll(async () => {
  await initBackend('wasm');
  base = initWeightsFromShapes(expectedShapes(config), 3);
  const other = initWeightsFromShapes(expectedShapes(config), 4);
  decoder = new Map([...other].filter(([k]) => k.startsWith('mask_decoder.')));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('run files', () => {
  it('writes only the trained decoder tensors plus the base reference; loadSamCheckpoint completes them from the base', async () => {
    const basePath = join(tmp, 'base.safetensors');
    writeSamSafetensors(basePath, base, config);
    const baseSha256 = (await loadSamCheckpoint(basePath)).sha256;
    const path = join(tmp, 'best.safetensors');
    writeModelCheckpoint(path, { path: basePath, sha256: baseSha256, source: 'base.safetensors' }, decoder, config, {
      kind: 'best',
      epoch: 4,
      trainingArgs: { lr: 1e-5 },
      metrics: { f1: 0.5 },
    });
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const stored = readSafetensors(path);
    expect([...stored.tensors.keys()].sort()).toEqual([...decoder.keys()].sort());
    expect(JSON.parse(stored.metadata[BASE_CHECKPOINT_KEY] as string)).toEqual({
      path: basePath,
      sha256: baseSha256,
      source: 'base.safetensors',
    });
    expect(stored.metadata[CHECKPOINT_META.baseSha256]).toBe(baseSha256);
    const meta = stored.metadata;
    expect(JSON.parse(meta[SAMTUNE_CONFIG_KEY] as string)).toEqual(config);
    expect(meta[CHECKPOINT_META.epoch]).toBe('4');
    expect(JSON.parse(meta[CHECKPOINT_META.metrics] as string)).toEqual({ f1: 0.5 });
    expect(JSON.parse(meta[CHECKPOINT_META.trainingArgs] as string)).toEqual({ lr: 1e-5 });
    const loaded = await loadSamCheckpoint(path);
    expect(loaded.config).toEqual(config);
    expect(loaded.base).toEqual({ path: basePath, sha256: baseSha256 });
    for (const [k, t] of base) {
      const want = decoder.get(k) ?? t;
      expect(nums(loaded.weights.get(k)?.data), k).toEqual(nums(want.data));
    }
  });

  it('round-trips the run state: decoder weights, Adam moments and step counts, early stopping, history', () => {
    const vars = Object.fromEntries(
      [...decoder].slice(0, 3).map(([k, t]) => [k, tf.variable(tf.tensor(t.data as Float32Array, [...t.shape]))]),
    );
    const adam = new Adam(vars, { lr: 1e-3 });
    const grads = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, tf.onesLike(v)]));
    adam.step(grads);
    adam.step(grads);
    const stopper = new EarlyStopping();
    for (const f1 of [0.1, 0.2, 0.3, 0.4]) stopper.update(f1);
    const meta: RunStateMeta = {
      version: RUN_STATE_VERSION,
      config: { ...defaultTrainConfig(), out: '/x' },
      epochsDone: 4,
      history: [],
      zeroShot: null,
      bestEpoch: 4,
      earlyStopping: stopper.state(),
      adamStep: 0,
      adamSteps: {},
      finished: false,
      stopReason: null,
      baseCheckpoint: { path: '/c.pth', sha256: 'abc' },
      embeddingPass: { seconds: 1, computed: 2, hits: 0 },
      backend: 'wasm',
    };
    const dec: WeightMap = new Map(
      Object.entries(vars).map(([k, v]) => [
        k,
        { dtype: 'float32', shape: v.shape, data: v.dataSync() as Float32Array },
      ]),
    );
    const path = join(tmp, 'state.safetensors');
    saveRunState(path, meta, dec, adam.state());
    const back = loadRunState(path);
    expect(back.meta.epochsDone).toBe(4);
    expect(back.meta.earlyStopping).toEqual(stopper.state());
    expect(back.meta.config.out).toBe('/x');
    expect(back.adam.step).toBe(2);
    const want = adam.state();
    for (const k of Object.keys(vars)) {
      expect(back.adam.steps[k]).toBe(2);
      expect(Array.from(back.adam.m[k] ?? [])).toEqual(Array.from(want.m[k] ?? []));
      expect(Array.from(back.adam.v[k] ?? [])).toEqual(Array.from(want.v[k] ?? []));
      expect(nums(back.decoder.get(k)?.data)).toEqual(Array.from(vars[k]?.dataSync() ?? []));
    }
    // A fresh optimizer loaded from the state continues exactly like the original one.
    const vars2 = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, tf.variable(v.clone())]));
    const adam2 = new Adam(vars2, { lr: 1e-3 });
    adam2.load(back.adam);
    adam.step(grads);
    adam2.step(Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g])));
    for (const k of Object.keys(vars))
      expect(Array.from(vars2[k]?.dataSync() ?? [])).toEqual(Array.from(vars[k]?.dataSync() ?? []));
    expect(existsSync(path)).toBe(true);
  });
});
