/**
 * The SAM 2.1 decoder side's configuration: prompt encoder and mask decoder sizes (the published
 * ones: every SAM 2.1 checkpoint, tiny to large, shares them) and the single-mask stability rule
 * of `SAM2ImagePredictor` (`dynamic_multimask_via_stability`).
 */
import { DEFAULT_MASK_DECODER, DEFAULT_PROMPT_ENCODER } from '../config.js';
import type { MaskDecoderConfig, PromptEncoderConfig } from '../config.js';

export interface Sam2DecoderConfig {
  readonly promptEncoder: PromptEncoderConfig;
  readonly maskDecoder: MaskDecoderConfig;
  /** Stability score delta: `#(logit > delta) / #(logit > -delta)` (0.05). */
  readonly stabilityDelta: number;
  /** Single-mask calls keep token 0 when its stability score is >= this (0.98), eval only. */
  readonly stabilityThresh: number;
}

/** The published SAM 2.1 sizes (`sam2.1_hiera_*.yaml`): the same prompt encoder and decoder as SAM 1. */
export const SAM2_DECODER_CONFIG: Sam2DecoderConfig = {
  promptEncoder: DEFAULT_PROMPT_ENCODER,
  maskDecoder: DEFAULT_MASK_DECODER,
  stabilityDelta: 0.05,
  stabilityThresh: 0.98,
};
