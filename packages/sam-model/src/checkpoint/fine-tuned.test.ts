import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { WeightMap } from '@samtune/tensor';
import { referencePath } from '../test-utils/fixtures.js';
import { BaseCheckpointMismatchError, BaseCheckpointMissingError, BaseCheckpointNestedError } from './fine-tuned.js';
import { loadSamCheckpoint, writeFineTunedSafetensors } from './load.js';
import { readSafetensors } from '@samtune/tensor-files';

const dir = mkdtempSync(join(tmpdir(), 'samtune-finetuned-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fine-tuned checkpoints (trained tensors + base reference)', () => {
  it('stores only the trained tensors and loads complete weights from the base', async () => {
    const basePath = join(dir, 'base.pth');
    copyFileSync(referencePath('tinyvit.pth'), basePath);
    const base = await loadSamCheckpoint(basePath);
    const trained: WeightMap = new Map();
    for (const [k, t] of base.weights)
      if (k.startsWith('mask_decoder.'))
        trained.set(k, { ...t, data: (t.data as Float32Array).map((v) => v + 1) } as typeof t);
    const out = join(dir, 'best.safetensors');
    writeFineTunedSafetensors(out, trained, base.config, { path: basePath, sha256: base.sha256, source: 'tiny_vit' });
    expect(readSafetensors(out).tensors.size).toBe(trained.size);
    expect(statSync(out).size).toBeLessThan(statSync(basePath).size / 2);

    const back = await loadSamCheckpoint(out);
    expect(back.base).toEqual({ path: basePath, sha256: base.sha256 });
    expect(back.weights.size).toBe(base.weights.size);
    const k = 'mask_decoder.iou_prediction_head.layers.0.weight';
    expect((back.weights.get(k)?.data as Float32Array)[0]).toBe(
      Math.fround((base.weights.get(k)?.data as Float32Array)[0]! + 1),
    );
    const e = 'image_encoder.patch_embed.seq.0.c.weight';
    expect(base.weights.get(e)).toBeDefined();
    expect(back.weights.get(e)).toEqual(base.weights.get(e));
  });

  it('says clearly when the base is missing, takes a new location, and refuses another base', async () => {
    const basePath = join(dir, 'moved.pth');
    copyFileSync(referencePath('tinyvit.pth'), basePath);
    const base = await loadSamCheckpoint(basePath);
    const trained: WeightMap = new Map([...base.weights].filter(([k]) => k.startsWith('mask_decoder.')));
    const out = join(dir, 'last.safetensors');
    writeFineTunedSafetensors(out, trained, base.config, { path: basePath, sha256: base.sha256 });
    rmSync(basePath);
    const err = await loadSamCheckpoint(out).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(BaseCheckpointMissingError);
    expect((err as Error).message).toContain(`holds only the ${trained.size} fine-tuned tensors`);
    expect((err as Error).message).toContain(`${basePath} (missing)`);
    expect((err as Error).message).toContain('Put the base file back at');
    const found = await loadSamCheckpoint(out, { baseCheckpoint: referencePath('tinyvit.pth') });
    expect(found.weights.size).toBe(base.weights.size);
    await expect(loadSamCheckpoint(out, { baseCheckpoint: referencePath('vit_mini.pth') })).rejects.toThrow(
      BaseCheckpointMismatchError,
    );
  });

  it('follows a base one level only: two files naming each other fail at once, naming both', async () => {
    const base = await loadSamCheckpoint(referencePath('tinyvit.pth'));
    const trained: WeightMap = new Map([...base.weights].filter(([k]) => k.startsWith('mask_decoder.')));
    const a = join(dir, 'a.safetensors');
    const b = join(dir, 'b.safetensors');
    writeFineTunedSafetensors(a, trained, base.config, { path: b, sha256: '0'.repeat(64) });
    writeFineTunedSafetensors(b, trained, base.config, { path: a, sha256: '1'.repeat(64) });
    const err = await loadSamCheckpoint(a).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(BaseCheckpointNestedError);
    expect((err as Error).message).toBe(
      `loadSamCheckpoint(${a}): expected its base checkpoint to be a complete checkpoint, got ${b}, itself a fine-tuned checkpoint naming the base ${a}; a base is followed one level only`,
    );
    // A chain (fine-tuned on a fine-tuned file) is refused the same way, also as an explicit base.
    await expect(loadSamCheckpoint(a, { baseCheckpoint: b })).rejects.toThrow(BaseCheckpointNestedError);
  });
});
