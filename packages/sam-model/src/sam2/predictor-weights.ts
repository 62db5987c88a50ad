/**
 * SAM 2.1 checkpoints name the decoder side `sam_prompt_encoder.*` / `sam_mask_decoder.*`; samtune's
 * decoder layers (shared with SAM 1) read `prompt_encoder.*` / `mask_decoder.*`, and the trainer,
 * evaluation and export select the trainable tensors by `MASK_DECODER_PREFIX`. These two functions
 * map between the official names and samtune's, one rule in both directions.
 */
import type { HostTensor, WeightMap } from '@samtune/tensor';
import { MASK_DECODER_PREFIX } from '../mask-decoder.js';
import { PROMPT_ENCODER_PREFIX } from '../prompt-encoder.js';

/** Official SAM 2 prefix -> samtune's (SAM 1's) prefix. */
const PREFIXES: readonly (readonly [string, string])[] = [
  ['sam_prompt_encoder.', PROMPT_ENCODER_PREFIX],
  ['sam_mask_decoder.', MASK_DECODER_PREFIX],
];

/**
 * The decoder-side tensors of a SAM 2.1 state dict under samtune's names (`prompt_encoder.*`,
 * `mask_decoder.*`); every other tensor (image encoder, `no_mem_embed`, video modules) is left out.
 * The tensors are shared, not copied.
 */
export function sam2PredictorWeights(stateDict: WeightMap): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [key, t] of stateDict) {
    for (const [official, ours] of PREFIXES) {
      if (key.startsWith(official)) out.set(ours + key.slice(official.length), t);
    }
  }
  return out;
}

/** samtune's name of a SAM 2 decoder-side tensor -> its official checkpoint key (others unchanged). */
export function sam2OfficialKey(key: string): string {
  for (const [official, ours] of PREFIXES) {
    if (key.startsWith(ours)) return official + key.slice(ours.length);
  }
  return key;
}

/**
 * `mask_decoder.*` tensors that fine-tuning leaves frozen: SAM 2.1's `conv_s0` / `conv_s1` project
 * the neck's high-res levels inside the image-feature pass (`SAM2Base.forward_image`), so their
 * outputs are what the embedding cache stores (its key covers them).
 */
export const FROZEN_DECODER_PREFIXES: readonly string[] = [
  `${MASK_DECODER_PREFIX}conv_s0.`,
  `${MASK_DECODER_PREFIX}conv_s1.`,
];

/** Whether training updates `key`: a `mask_decoder.*` tensor outside `FROZEN_DECODER_PREFIXES` (SAM 1: every one). */
export function isTrainableDecoderKey(key: string): boolean {
  return key.startsWith(MASK_DECODER_PREFIX) && !FROZEN_DECODER_PREFIXES.some((p) => key.startsWith(p));
}
