/**
 * The weights the SAM 2.1 encoder graph reads: the image-mode encoder tensors of a checkpoint
 * (`image_encoder.*`, `sam_mask_decoder.conv_s0/conv_s1`, `no_mem_embed`) plus the build-time
 * position embedding of the token grid.
 */
import type { WeightMap } from '@samtune/tensor';
import type { HieraConfig } from './config.js';
import { HIERA_POS_EMBED_KEY } from './hiera.js';
import { HIERA_PATCH_STRIDE } from './hiera-layout.js';
import { hieraPosEmbed } from './hiera-pos-embed.js';
import { NO_MEM_EMBED_KEY, SAM2_DECODER_PREFIX, SAM2_ENCODER_PREFIX, Sam2EncoderInputError } from './image-encoder.js';

const TRUNK = `${SAM2_ENCODER_PREFIX}trunk.`;

/**
 * Whether the SAM 2.1 image features depend on `key`: `image_encoder.*`, `sam_mask_decoder.conv_s0/
 * conv_s1.*` (folded into `high_res_feats`) and `no_mem_embed` (added to the 64x64 embedding).
 */
export function isSam2EncoderKey(k: string): boolean {
  return (
    k.startsWith(SAM2_ENCODER_PREFIX) ||
    k.startsWith(`${SAM2_DECODER_PREFIX}conv_s0.`) ||
    k.startsWith(`${SAM2_DECODER_PREFIX}conv_s1.`) ||
    k === NO_MEM_EMBED_KEY
  );
}

/**
 * The encoder's weight map: the tensors it reads (by reference, not copied) and
 * `image_encoder.trunk.pos_embed.grid` `[1,S/4,S/4,C]` (bicubic `pos_embed` + tiled `pos_embed_window`).
 */
export function prepareSam2EncoderWeights(config: HieraConfig, weights: WeightMap): WeightMap {
  const get = (key: string) => {
    const t = weights.get(key);
    if (!t) throw new Sam2EncoderInputError(`prepareSam2EncoderWeights(config, weights): no '${key}' in the weights`);
    return t;
  };
  const out: WeightMap = new Map();
  for (const [k, v] of weights)
    if (isSam2EncoderKey(k) && k !== `${TRUNK}pos_embed` && k !== `${TRUNK}pos_embed_window`) out.set(k, v);
  const grid = config.imgSize / HIERA_PATCH_STRIDE;
  out.set(
    `${TRUNK}${HIERA_POS_EMBED_KEY}`,
    hieraPosEmbed(get(`${TRUNK}pos_embed`), get(`${TRUNK}pos_embed_window`), grid),
  );
  return out;
}
