/**
 * The SAM 2.1 decoder side's configuration: the prompt encoder and mask decoder slice of
 * {@link Sam2Config} (one config type; the sizes and the single-mask stability rule of
 * `SAM2ImagePredictor` live in `SAM2_MASK_DECODER`). Every SAM 2.1 checkpoint, tiny to large,
 * shares the published values, so code that only runs the decoder can default to them.
 */
import { SAM2_MASK_DECODER, SAM2_PROMPT_ENCODER, type Sam2Config } from './config.js';

/** What the SAM 2.1 prompt encoder, mask decoder and predictor rules read from a {@link Sam2Config}. */
export type Sam2DecoderConfig = Pick<Sam2Config, 'promptEncoder' | 'maskDecoder'>;

/** The published SAM 2.1 sizes (`sam2.1_hiera_*.yaml`): the same prompt encoder and decoder as SAM 1. */
export const SAM2_DECODER_CONFIG: Sam2DecoderConfig = {
  promptEncoder: SAM2_PROMPT_ENCODER,
  maskDecoder: SAM2_MASK_DECODER,
};
