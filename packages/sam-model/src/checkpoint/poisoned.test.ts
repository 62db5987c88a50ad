/**
 * Poisoned and cut checkpoints (issue 11): NaN/Infinity in a mask-decoder weight is refused at load
 * with a named error naming the tensor; a truncated safetensors file is a SafetensorsError saying
 * what is missing, not a zip error.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { WeightMap } from '@samtune/tensor';
import { SAM_PRESETS } from '../config.js';
import { initWeightsFromShapes } from '../init.js';
import { expectedShapes } from './expected-shapes.js';
import { checkFiniteWeights, findNonFinite, NonFiniteWeightsError } from './finite.js';
import { UnknownCheckpointError } from './download.js';
import { loadSamCheckpoint, writeSamSafetensors } from './load.js';
import { readSafetensors, SafetensorsError, writeSafetensors } from '@samtune/tensor-files';

const dir = mkdtempSync(join(tmpdir(), 'samtune-poison-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEY = 'mask_decoder.iou_prediction_head.layers.0.weight';

function poisonedWeights(): WeightMap {
  const weights = initWeightsFromShapes(expectedShapes(SAM_PRESETS.tiny_vit), 3);
  const t = weights.get(KEY)!;
  const data = t.data as Float32Array;
  data[7] = Number.NaN;
  data[9] = Number.POSITIVE_INFINITY;
  return weights;
}

describe('non-finite weights', () => {
  it('findNonFinite: first index, value and count', () => {
    expect(findNonFinite(new Float32Array([1, 2, 3]))).toBeUndefined();
    expect(findNonFinite(new Float32Array([1, -Infinity, Number.NaN]))).toEqual({
      index: 1,
      value: -Infinity,
      count: 2,
    });
  });

  it('loadSamCheckpoint refuses NaN in a mask-decoder weight, naming the tensor, index and file', async () => {
    const path = join(dir, 'nan.safetensors');
    writeSamSafetensors(path, poisonedWeights(), SAM_PRESETS.tiny_vit);
    const err = await loadSamCheckpoint(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteWeightsError);
    const e = err as NonFiniteWeightsError;
    expect(e.code).toBe('non-finite-weights');
    expect(e.kind).toBe('input');
    expect(e.tensors.map((t) => t.key)).toEqual([KEY]);
    expect(e.message).toBe(
      `checkFiniteWeights(${path}): expected finite weights, got NaN/Infinity in 1 tensor(s):\n` +
        `  ${KEY} [256,256]: 2 non-finite value(s), first NaN at flat index 7`,
    );
    // Opt-out still loads (tools that inspect broken files).
    expect((await loadSamCheckpoint(path, { checkFinite: false })).weights.size).toBeGreaterThan(400);
  });

  it('checkFiniteWeights ignores integer buffers', () => {
    const w: WeightMap = new Map([['x', { dtype: 'int64', shape: [1], data: new BigInt64Array([1n]) }]]);
    expect(() => checkFiniteWeights(w)).not.toThrow();
  });
});

describe('truncated safetensors', () => {
  const weights: WeightMap = new Map([
    ['a', { dtype: 'float32', shape: [64], data: new Float32Array(64).fill(1) }],
    ['b', { dtype: 'float32', shape: [64], data: new Float32Array(64).fill(2) }],
  ]);

  it('a file cut inside the tensor data names the tensor and the sizes', () => {
    const full = join(dir, 'full.safetensors');
    writeSafetensors(full, weights);
    const bytes = readFileSync(full);
    const cut = join(dir, 'cut.safetensors');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
    expect(() => readSafetensors(cut)).toThrow(SafetensorsError);
    const headerEnd = bytes.length - 512;
    expect(() => readSafetensors(cut)).toThrow(
      `readSafetensors(${cut}): truncated file: tensor 'b' needs bytes [${headerEnd + 256}, ${bytes.length}) but the file has ${bytes.length - 10} bytes`,
    );
  });

  it('a file cut inside the header, or shorter than the length prefix', () => {
    const full = join(dir, 'full2.safetensors');
    writeSafetensors(full, weights);
    const bytes = readFileSync(full);
    const cut = join(dir, 'cut-header.safetensors');
    writeFileSync(cut, bytes.subarray(0, 20));
    expect(() => readSafetensors(cut)).toThrow(
      /truncated file: the JSON header needs bytes \[8, \d+\) but the file has 20 bytes/,
    );
    writeFileSync(cut, bytes.subarray(0, 5));
    expect(() => readSafetensors(cut)).toThrow(
      `readSafetensors(${cut}): truncated file: the header length needs bytes [0, 8) but the file has 5 bytes`,
    );
  });

  it('loadSamCheckpoint of a truncated samtune safetensors is a SafetensorsError', async () => {
    const path = join(dir, 'model.safetensors');
    writeSamSafetensors(path, initWeightsFromShapes(expectedShapes(SAM_PRESETS.tiny_vit), 1), SAM_PRESETS.tiny_vit);
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length >> 1));
    await expect(loadSamCheckpoint(path)).rejects.toBeInstanceOf(SafetensorsError);
  });
});

describe('a directory where a checkpoint file is expected', () => {
  it('says it is a directory', async () => {
    const err = await loadSamCheckpoint(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownCheckpointError);
    expect((err as Error).message).toContain(
      `resolveCheckpoint(nameOrPath): '${dir}' is a directory (or not a regular file), not a checkpoint file`,
    );
  });
});
