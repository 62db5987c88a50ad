/**
 * Published SAM checkpoints by preset name. Sizes and hashes are only the ones that are published;
 * for the others the SHA-256 is recorded on first download (a `<file>.sha256` sidecar in the cache)
 * and later loads are verified against it.
 */
import type { SamPresetName } from '../config.js';
import type { Sam2PresetName } from '../sam2/config.js';

export interface PublishedCheckpoint {
  /** Preset (architecture) the weights belong to. */
  readonly preset: SamPresetName | Sam2PresetName;
  /** Model family: `sam` (default; `loadSamCheckpoint`) or `sam2` (SAM 2.1, `loadSam2Checkpoint`). */
  readonly family?: 'sam' | 'sam2';
  readonly url: string;
  /** File name in the cache directory. */
  readonly fileName: string;
  /** Exact size in bytes, when published. */
  readonly sizeBytes?: number;
  /** Lower-case hex SHA-256, when published. */
  readonly sha256?: string;
}

/**
 * A SAM 2.1 checkpoint of the 2024-09-28 release. Meta publishes no SHA-256 nor byte size for these
 * files (none found in public sources): the hash is recorded at first download and verified after.
 */
function sam2Entry(size: 'tiny' | 'small' | 'base_plus' | 'large'): PublishedCheckpoint {
  const fileName = `sam2.1_hiera_${size}.pt`;
  return {
    preset: `sam2.1_hiera_${size}`,
    family: 'sam2',
    url: `https://dl.fbaipublicfiles.com/segment_anything_2/092824/${fileName}`,
    fileName,
  };
}

/**
 * Registry entries by name (`tiny_vit`, `vit_b`, `vit_l`, `vit_h`, `sam2.1_hiera_tiny`,
 * `sam2.1_hiera_small`, `sam2.1_hiera_base_plus`, `sam2.1_hiera_large`).
 */
export const CHECKPOINT_REGISTRY: Readonly<Record<string, PublishedCheckpoint>> = {
  tiny_vit: {
    preset: 'tiny_vit',
    url: 'https://github.com/ChaoningZhang/MobileSAM/raw/master/weights/mobile_sam.pt',
    fileName: 'mobile_sam.pt',
    sizeBytes: 40_728_226,
    sha256: '6dbb90523a35330fedd7f1d3dfc66f995213d81b29a5ca8108dbcdd4e37d6c2f',
  },
  vit_b: {
    preset: 'vit_b',
    url: 'https://dl.fbaipublicfiles.com/segment_anything/sam_vit_b_01ec64.pth',
    fileName: 'sam_vit_b_01ec64.pth',
  },
  vit_l: {
    preset: 'vit_l',
    url: 'https://dl.fbaipublicfiles.com/segment_anything/sam_vit_l_0b3195.pth',
    fileName: 'sam_vit_l_0b3195.pth',
  },
  vit_h: {
    preset: 'vit_h',
    url: 'https://dl.fbaipublicfiles.com/segment_anything/sam_vit_h_4b8939.pth',
    fileName: 'sam_vit_h_4b8939.pth',
  },
  'sam2.1_hiera_tiny': sam2Entry('tiny'),
  'sam2.1_hiera_small': sam2Entry('small'),
  'sam2.1_hiera_base_plus': sam2Entry('base_plus'),
  'sam2.1_hiera_large': sam2Entry('large'),
};

/** The registry entry for `name`, or undefined when it is not a published checkpoint name. */
export function publishedCheckpoint(
  name: string,
  registry: Readonly<Record<string, PublishedCheckpoint>> = CHECKPOINT_REGISTRY,
): PublishedCheckpoint | undefined {
  return Object.prototype.hasOwnProperty.call(registry, name) ? registry[name] : undefined;
}
