/**
 * Which model family a checkpoint holds, before loading it: a registry name says so; a file is told
 * by its key names (SAM 2.1: `image_encoder.trunk.*` / `sam_mask_decoder.*`; SAM 1:
 * `image_encoder.*` / `mask_decoder.*`). A torch file is read up to its pickle only.
 */
import { existsSync, statSync } from 'node:fs';
import { CHECKPOINT_REGISTRY, publishedCheckpoint, type PublishedCheckpoint } from '../checkpoint/registry.js';
import { sniff } from '../checkpoint/load.js';
import { readSafetensors } from '../checkpoint/safetensors.js';
import { readTorchCheckpointShapes } from '../checkpoint/torch.js';
import { isSam2Keys } from './family-keys.js';

export type ModelFamily = 'sam' | 'sam2';

/**
 * The family of `nameOrPath`: an existing file by its keys, else the registry entry's `family`
 * (`sam` for anything else: the SAM 1 loader then names what is wrong).
 */
export function checkpointFamily(
  nameOrPath: string,
  registry: Readonly<Record<string, PublishedCheckpoint>> = CHECKPOINT_REGISTRY,
): ModelFamily {
  if (existsSync(nameOrPath) && statSync(nameOrPath).isFile()) {
    const keys =
      sniff(nameOrPath) === 'torch'
        ? readTorchCheckpointShapes(nameOrPath).keys()
        : readSafetensors(nameOrPath).tensors.keys();
    return isSam2Keys(keys) ? 'sam2' : 'sam';
  }
  return publishedCheckpoint(nameOrPath, registry)?.family ?? 'sam';
}
