/**
 * A failed export leaves nothing behind (issue 11): the models are written into a temp directory
 * beside the target and moved into place only when every model verified and `model.json` is written.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NonFiniteWeightsError, SamModel, type ImageEncoderSession, type WeightMap } from '@samtune/sam-model';
import { EXPORT_FILES } from './contract.js';
import { exportSamOnnx, ExportTargetError, type ExportSource } from './export-model.js';
import { tempDir } from './test-utils/fixtures.js';
import { exportTransformersJs } from './transformers-js.js';

const root = tempDir('failure');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const seeded = SamModel.seeded('tiny_vit', 1);

/** The seeded model whose in-process encoder (the verification reference) fails. */
function brokenReference(weights: WeightMap = seeded.weights): ExportSource {
  return {
    config: seeded.config,
    weights,
    source: seeded.source,
    encoder: (): Promise<ImageEncoderSession> => Promise.reject(new Error('reference encoder unavailable')),
  };
}

describe('exportSamOnnx: all or nothing', () => {
  it('a verification that throws after encoder.onnx was written leaves no target and no staging dir', async () => {
    const target = join(root, 'exported');
    const log: string[] = [];
    await expect(
      exportSamOnnx(brokenReference(), target, { components: ['encoder'], log: (l) => log.push(l) }),
    ).rejects.toThrow('reference encoder unavailable');
    // encoder.onnx was written (into the staging dir) before the verification failed.
    expect(log.some((l) => l.includes(`/.exported.export-`) && l.includes(`/${EXPORT_FILES.encoder} (`))).toBe(true);
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(root)).toEqual([]);
  }, 300_000);

  it('an existing target keeps its files when the export fails', async () => {
    const target = join(root, 'kept');
    mkdirSync(target);
    writeFileSync(join(target, EXPORT_FILES.modelJson), '{"old": true}');
    await expect(exportSamOnnx(brokenReference(), target, { components: ['encoder'] })).rejects.toThrow();
    expect(readdirSync(target)).toEqual([EXPORT_FILES.modelJson]);
    expect(readdirSync(root).filter((n) => n.startsWith('.'))).toEqual([]);
  }, 300_000);

  it('non-finite weights are refused before anything is written, naming the tensor', async () => {
    const key = 'mask_decoder.mask_tokens.weight';
    const weights: WeightMap = new Map(seeded.weights);
    const t = weights.get(key)!;
    const data = Float32Array.from(t.data as Float32Array);
    data[3] = Number.NaN;
    weights.set(key, { ...t, data });
    const target = join(root, 'nan');
    const err = await exportSamOnnx(brokenReference(weights), target).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteWeightsError);
    expect((err as Error).message).toContain(`${key} [4,256]: 1 non-finite value(s), first NaN at flat index 3`);
    expect(existsSync(target)).toBe(false);
  });

  it('a target under a regular file is an ExportTargetError saying so', async () => {
    const file = join(root, 'file.txt');
    writeFileSync(file, 'x');
    const err = await exportSamOnnx(brokenReference(), join(file, 'out')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExportTargetError);
    expect((err as Error).message).toContain(
      `exportSamOnnx(dir): expected a directory path that can be created, got '${file}/out'`,
    );
    rmSync(file);
  });
});

describe('exportTransformersJs: staged like the ONNX export', () => {
  it('a verification that throws leaves no target and no staging dir', async () => {
    const target = join(root, 'tjs');
    await expect(exportTransformersJs(brokenReference(), target)).rejects.toThrow('reference encoder unavailable');
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(root).filter((n) => n.startsWith('.') || n === 'tjs')).toEqual([]);
  }, 300_000);
});
