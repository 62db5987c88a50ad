import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SAM_PRESETS } from '../config.js';
import { referencePath } from '../test-utils/fixtures.js';
import { CheckpointKeysError } from './expected-shapes.js';
import { SAMTUNE_CONFIG_KEY, loadSamCheckpoint, writeSamSafetensors } from './load.js';
import { readSafetensors, writeSafetensors } from '@samtune/tensor-files';

const dir = mkdtempSync(join(tmpdir(), 'samtune-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytesOf = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const fileSha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('loadSamCheckpoint', () => {
  it('loads tinyvit.pth: tiny_vit config, 439 tensors, the file SHA-256', async () => {
    const path = referencePath('tinyvit.pth');
    const ck = await loadSamCheckpoint(path);
    expect(ck.path).toBe(path);
    expect(ck.config.name).toBe('tiny_vit');
    expect(ck.weights.size).toBe(439);
    expect(ck.sha256).toBe(fileSha(path));
  });

  it('round-trips vit_mini through samtune safetensors: config from metadata, identical tensors', async () => {
    const src = await loadSamCheckpoint(referencePath('vit_mini.pth'));
    expect(src.config.name).toBe('custom');
    const out = join(dir, 'mini.safetensors');
    writeSamSafetensors(
      out,
      src.weights,
      { ...src.config, name: 'my_finetune' },
      { 'samtune.source_sha256': src.sha256 },
    );
    expect(readSafetensors(out).metadata['samtune.source_sha256']).toBe(src.sha256);
    const back = await loadSamCheckpoint(out);
    expect(back.config).toEqual({ ...src.config, name: 'my_finetune' });
    expect(back.sha256).toBe(fileSha(out));
    expect([...back.weights.keys()]).toEqual([...src.weights.keys()]);
    let differing = 0;
    for (const [k, t] of src.weights) {
      const b = back.weights.get(k)!;
      if (b.dtype !== t.dtype || Buffer.compare(bytesOf(b.data), bytesOf(t.data)) !== 0) differing++;
    }
    expect(differing).toBe(0);
  });

  it('infers the config of a safetensors file without samtune metadata, keeping int64 buffers', async () => {
    const src = await loadSamCheckpoint(referencePath('tinyvit.pth'));
    const out = join(dir, 'plain.safetensors');
    writeSafetensors(out, src.weights, { format: 'pt' });
    const back = await loadSamCheckpoint(out);
    expect(back.config).toEqual(SAM_PRESETS.tiny_vit);
    expect(back.weights.get('image_encoder.layers.0.blocks.0.conv1.bn.num_batches_tracked')!.data).toEqual(
      new BigInt64Array([0n]),
    );
  });

  it('validates: a file with a missing tensor fails with CheckpointKeysError unless validate is false', async () => {
    const src = await loadSamCheckpoint(referencePath('vit_mini.pth'));
    const w = new Map(src.weights);
    w.delete('mask_decoder.mask_tokens.weight');
    const out = join(dir, 'broken.safetensors');
    writeSamSafetensors(out, w, src.config);
    await expect(loadSamCheckpoint(out)).rejects.toThrow(CheckpointKeysError);
    await expect(loadSamCheckpoint(out)).rejects.toThrow(
      /missing: mask_decoder.mask_tokens.weight \(expected \[4,256\]\)/,
    );
    expect((await loadSamCheckpoint(out, { validate: false })).weights.size).toBe(201);
  });

  it('loads a registry name through the download cache (fetch stubbed, no network)', async () => {
    const bytes = readFileSync(referencePath('tinyvit.pth'));
    const sha = createHash('sha256').update(bytes).digest('hex');
    const fetchImpl = (async () => new Response(bytes)) as unknown as typeof fetch;
    const registry = {
      mobile: {
        preset: 'tiny_vit',
        url: 'https://example.invalid/mobile_sam.pt',
        fileName: 'mobile_sam.pt',
        sizeBytes: bytes.length,
        sha256: sha,
      },
    } as const;
    const ck = await loadSamCheckpoint('mobile', { cacheDir: join(dir, 'cache'), fetchImpl, registry });
    expect(ck.path).toBe(join(dir, 'cache', 'mobile_sam.pt'));
    expect(ck.sha256).toBe(sha);
    expect(ck.config.name).toBe('tiny_vit');
  });

  it('uses the samtune.config metadata key', () => {
    expect(SAMTUNE_CONFIG_KEY).toBe('samtune.config');
  });
});
