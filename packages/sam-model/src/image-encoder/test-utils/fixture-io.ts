/**
 * Test-only fixture loading for the image-encoder parity tests: the reference checkpoints, the
 * official resized images normalised and padded, and `<stem>.image_embeddings` from the outputs.
 */
import { normalizeAndPad, readImage } from '@samtune/transforms';
import { PIXEL_MEAN, PIXEL_STD, TINY_VIT_ENCODER, vitConfig } from '../../config.js';
import type { ImageEncoderConfig } from '../../config.js';
import { readSafetensors, readTorchCheckpoint } from '@samtune/tensor-files';
import type { FloatTensor, WeightMap } from '@samtune/tensor';
import { toFloat32 } from '@samtune/tensor';
import { referencePath } from '../../test-utils/fixtures.js';

/** The two reference encoders: MobileSAM TinyViT and the reduced ViT (embed 192, depth 4, 3 heads). */
export const ENCODER_FIXTURES: readonly { name: 'tinyvit' | 'vit_mini'; config: ImageEncoderConfig }[] = [
  { name: 'tinyvit', config: TINY_VIT_ENCODER },
  { name: 'vit_mini', config: vitConfig(192, 4, 3, [1, 3]) },
];

export const IMAGE_STEMS = ['dog', 'truck'] as const;

export function loadCheckpoint(name: string): WeightMap {
  return readTorchCheckpoint(referencePath(`${name}.pth`));
}

/** `<stem>_resized.png` normalised with the official mean/std and zero-padded: `[1,3,1024,1024]`. */
export async function loadInput(stem: string): Promise<Float32Array> {
  const img = await readImage(referencePath(`${stem}_resized.png`));
  return normalizeAndPad(img, PIXEL_MEAN, PIXEL_STD, 1024);
}

/** `<key>` of a fixture safetensors file as float32 (e.g. `dog.image_embeddings` of `tinyvit_outputs.safetensors`). */
export function readFixtureTensor(file: string, key: string): FloatTensor {
  const path = referencePath(file);
  const t = readSafetensors(path).tensors.get(key);
  if (!t) throw new Error(`readFixtureTensor(file, key): no tensor '${key}' in ${path}`);
  return toFloat32(t);
}
