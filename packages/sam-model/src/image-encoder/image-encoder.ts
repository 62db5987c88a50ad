/**
 * The image encoder entry point, written once against `Ops<T>` for both SAM encoder families.
 * The executor's weight map must hold the checkpoint weights AND the derived keys of
 * `prepareImageEncoderWeights(config, weights)`.
 */
import type { ImageEncoderConfig } from '../config.js';
import { ParamScope } from '../layers.js';
import type { Ops } from '@samtune/tensor';
import { fusedConvKeys, IMAGE_ENCODER_PREFIX, relPosTableKey } from './prepare.js';
import { tinyVitEncoder } from './tiny-vit.js';
import { vitEncoder } from './vit.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when the input is not `[B,3,S,S]` at the config's image size. */
export class ImageEncoderInputError extends SamtuneError {
  readonly code: string = 'image-encoder-input';
  readonly kind: ErrorKind = 'input';
}

/** Thrown when the executor's weights lack the derived keys of `prepareImageEncoderWeights`. */
export class UnpreparedWeightsError extends SamtuneError {
  readonly code: string = 'unprepared-weights';
  readonly kind: ErrorKind = 'input';
}

/** A derived key that `prepareImageEncoderWeights` always writes for this config (or undefined). */
function derivedProbeKey(config: ImageEncoderConfig, prefix: string): string | undefined {
  if (config.kind === 'tiny_vit') return fusedConvKeys(`${prefix}patch_embed.seq.0.`).weight;
  return config.useRelPos && config.depth > 0 ? relPosTableKey(`${prefix}blocks.0.attn.`, 'h') : undefined;
}

/**
 * SAM image encoder (TinyViT or ViT, by `config.kind`).
 * @param images `[B,3,S,S]`, S = `config.imgSize` (1024): normalised with the pixel mean/std, then
 *   zero-padded bottom/right (the official preprocessing).
 * @returns image embeddings `[B,outChans,S/16,S/16]`, i.e. `[1,256,64,64]`.
 */
export function imageEncoder<T>(ops: Ops<T>, config: ImageEncoderConfig, images: T, prefix = IMAGE_ENCODER_PREFIX): T {
  const shape = ops.shape(images);
  const s = config.imgSize;
  if (shape.length !== 4 || shape[1] !== config.inChans || shape[2] !== s || shape[3] !== s) {
    throw new ImageEncoderInputError(
      `imageEncoder(ops, config, images): images have shape [${shape.join(',')}], expected [B,${config.inChans},${s},${s}] (${config.kind})`,
    );
  }
  const probe = derivedProbeKey(config, prefix);
  if (probe !== undefined && !ops.hasParam(probe)) {
    throw new UnpreparedWeightsError(
      `imageEncoder(ops, config, images): the ${ops.kind} weights lack the derived key '${probe}'; ` +
        'build them with prepareImageEncoderWeights(config, weights)',
    );
  }
  const p = new ParamScope(ops, prefix);
  return config.kind === 'tiny_vit' ? tinyVitEncoder(p, config, images) : vitEncoder(p, config, images);
}
