/**
 * Test-only access to `../shared/fixtures/sam2-reference/` (official SAM 2.1 outputs on a seeded,
 * reduced Hiera checkpoint): paths, the manifest's Hiera facts, tensors of the output files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toFloat32, type FloatTensor } from '@samtune/tensor';
import { sharedPath } from '@samtune/test-fixtures';
import { readSafetensors } from '@samtune/tensor-files';
import type { HieraFacts } from '../config.js';

export function sam2ReferencePath(name: string): string {
  return sharedPath(join('fixtures', 'sam2-reference', name));
}

export const SAM2_MINI_CHECKPOINT = 'sam2.1_hiera_mini_seeded.pt';

interface ManifestEncoder {
  num_heads: number;
  global_att_blocks: number[];
  window_spec: number[];
  q_pool: number;
  stages: number[];
  embed_dim: number;
  'blocks [dim, dim_out, num_heads, window_size, q_pool]': [number, number, number, number, boolean][];
  'neck.backbone_channel_list': number[];
}

/** `manifest.models.hiera_mini.image_encoder`. */
export function miniEncoderManifest(): ManifestEncoder {
  const m = JSON.parse(readFileSync(sam2ReferencePath('manifest.json'), 'utf8')) as {
    models: { hiera_mini: { image_encoder: ManifestEncoder } };
  };
  return m.models.hiera_mini.image_encoder;
}

/** The reduced trunk's non-shape facts, from the manifest. */
export function miniHieraFacts(): HieraFacts {
  const e = miniEncoderManifest();
  return { numHeads: e.num_heads, globalAttBlocks: e.global_att_blocks, windowSpec: e.window_spec, qPool: e.q_pool };
}

/** A tensor of a fixture file as float32. */
export function readSam2Tensor(file: string, key: string): FloatTensor {
  const path = sam2ReferencePath(file);
  const t = readSafetensors(path).tensors.get(key);
  if (!t) throw new Error(`readSam2Tensor(file, key): no tensor '${key}' in ${path}`);
  return toFloat32(t);
}
