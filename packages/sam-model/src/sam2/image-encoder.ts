/**
 * The SAM 2.1 image features of one image, as `SAM2ImagePredictor.set_image` computes them:
 * Hiera trunk -> FPN neck -> `high_res_feats = [conv_s0(level 0), conv_s1(level 1)]` (done in
 * `SAM2Base.forward_image`) and `image_embed = level 2 + no_mem_embed` (`directly_add_no_mem_embed`).
 * The executor's weight map must hold the checkpoint weights and the derived keys of
 * `prepareSam2EncoderWeights`.
 */
import type { Ops } from '@samtune/tensor';
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import { ParamScope, conv2d } from '../layers.js';
import type { HieraConfig } from './config.js';
import { fpnNeck } from './fpn-neck.js';
import { HIERA_POS_EMBED_KEY, hieraTrunk } from './hiera.js';

/** Checkpoint key of the embedding added to the 64x64 features in image mode (`[1,1,256]`). */
export const NO_MEM_EMBED_KEY = 'no_mem_embed';
export const SAM2_ENCODER_PREFIX = 'image_encoder.';
export const SAM2_DECODER_PREFIX = 'sam_mask_decoder.';

/** Thrown when the input is not `[B,3,S,S]`, or the derived weights are missing. */
export class Sam2EncoderInputError extends SamtuneError {
  readonly code: string = 'sam2-encoder-input';
  readonly kind: ErrorKind = 'input';
}

/** What the SAM 2.1 encoder produces for the decoder. */
export interface Sam2ImageFeatures<T> {
  /** `[B,256,64,64]`: neck level 2 + `no_mem_embed`. */
  readonly imageEmbed: T;
  /** `[B,32,256,256]` (`conv_s0`) and `[B,64,128,128]` (`conv_s1`). */
  readonly highResFeats: readonly [T, T];
  /** The neck levels before `conv_s0`/`conv_s1`, finest first (`[B,256,256,256]`, `[B,256,128,128]`, …). */
  readonly backboneFpn: readonly T[];
}

/**
 * @param images `[B,3,S,S]` (S = 1024): the image stretched to S x S, /255, normalised with the
 *   ImageNet mean/std (`preprocessImageSam2`).
 */
export function sam2ImageEncoder<T>(ops: Ops<T>, config: HieraConfig, images: T): Sam2ImageFeatures<T> {
  const shape = ops.shape(images);
  const s = config.imgSize;
  if (shape.length !== 4 || shape[1] !== config.inChans || shape[2] !== s || shape[3] !== s) {
    throw new Sam2EncoderInputError(
      `sam2ImageEncoder(ops, config, images): images have shape [${shape.join(',')}], expected [B,${config.inChans},${s},${s}]`,
    );
  }
  const trunk = new ParamScope(ops, `${SAM2_ENCODER_PREFIX}trunk.`);
  if (!trunk.has(HIERA_POS_EMBED_KEY)) {
    throw new Sam2EncoderInputError(
      `sam2ImageEncoder(ops, config, images): the ${ops.kind} weights lack the derived key '${trunk.key(HIERA_POS_EMBED_KEY)}'; ` +
        'build them with prepareSam2EncoderWeights(config, weights)',
    );
  }
  const levels = fpnNeck(new ParamScope(ops, `${SAM2_ENCODER_PREFIX}neck.`), config, hieraTrunk(trunk, config, images));
  const dec = new ParamScope(ops, SAM2_DECODER_PREFIX);
  const highResFeats = [conv2d(dec.child('conv_s0'), levels[0]!), conv2d(dec.child('conv_s1'), levels[1]!)] as const;
  const noMem = ops.reshape(ops.param(NO_MEM_EMBED_KEY), [1, config.dModel, 1, 1]);
  return { imageEmbed: ops.add(levels[levels.length - 1]!, noMem), highResFeats, backboneFpn: levels };
}
