/**
 * Test-only: a second model version to swap to, v1: a decoder-only checkpoint of the reference
 * weights with every decoder tensor scaled by 1.5 (written like a run's best.safetensors),
 * registered in the server's version store as a candidate.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  loadSamCheckpoint,
  MASK_DECODER_PREFIX,
  writeFineTunedSafetensors,
  type FloatTensor,
  type WeightMap,
} from '@samtune/sam-model';
import type { SamServer } from '../server.js';
import { referencePath } from './fixtures.js';

/** Adds the perturbed version to `srv`'s store (`scratch`: a folder for the checkpoint); its id. */
export async function addPerturbedVersion(srv: SamServer, scratch: string): Promise<string> {
  const store = srv.versions?.store;
  if (!store) throw new Error('addPerturbedVersion(): expected a server with a version store, found none');
  const base = await loadSamCheckpoint(referencePath('tinyvit.pth'));
  const decoder: WeightMap = new Map();
  for (const [k, t] of base.weights)
    if (k.startsWith(MASK_DECODER_PREFIX))
      decoder.set(k, { ...t, data: Float32Array.from(t.data as Float32Array, (v) => v * 1.5) } as FloatTensor);
  const v = await store.create(0);
  const file = join(scratch, `${v.id}.safetensors`);
  writeFineTunedSafetensors(file, decoder, base.config, { path: base.path, sha256: base.sha256 });
  await copyFile(file, store.checkpoint(v.id) as string);
  await store.finish(v.id, { state: 'candidate', decoderSha256: 'a'.repeat(64), reason: 'test' });
  return v.id;
}
