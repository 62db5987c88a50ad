/**
 * The exported decoder model (prompt encoder + mask decoder + mask post-processing) with the official
 * SAM export's I/O (see `contract.ts`): sam-model's `recordDecoderGraph` (the same graph the
 * in-process ORT engine runs, recorded from the same layer code the tfjs predictor runs) with
 * `mask_input`, `has_mask_input` and `orig_im_size`, at the export opset. The number of points N is
 * dynamic, everything else static.
 */
import { recordDecoderGraph as recordSamDecoderGraph, type SamConfig, type WeightMap } from '@samtune/sam-model';
import type { OnnxGraphOps } from '@samtune/onnx';
import { EXPORT_OPSET, type DecoderVariant } from './contract.js';

/** Options of `recordDecoderGraph`. */
export interface DecoderGraphOptions {
  /** `multimask`: all 4 tokens (official `return_single_mask=False`); `single_mask`: the rule's one mask. */
  readonly variant: DecoderVariant;
  /**
   * Record the faster forms of the same values (re-associated cross-attentions, channels-last mask
   * head; sam-model's `DecoderGraphOptions.fast`): what the labelling page runs. Default false.
   */
  readonly fast?: boolean;
}

/**
 * Records the decoder graph. Inputs (all float32): `image_embeddings [1,C,h,w]`,
 * `point_coords [1,N,2]` (1024 frame, XY), `point_labels [1,N]`, `mask_input [1,1,4h,4w]`,
 * `has_mask_input [1]`, `orig_im_size [2]` (H,W). Outputs: `masks [1,M,H,W]`,
 * `iou_predictions [1,M]`, `low_res_masks [1,M,4h,4w]`, M = 4 (multimask) or 1 (single-mask).
 * @param weights checkpoint weights; only `prompt_encoder.*` and `mask_decoder.*` are read.
 */
export function recordDecoderGraph(config: SamConfig, weights: WeightMap, opts: DecoderGraphOptions): OnnxGraphOps {
  return recordSamDecoderGraph(config, weights, {
    variant: opts.variant,
    maskInput: true,
    postprocess: true,
    opset: EXPORT_OPSET,
    fast: opts.fast,
  });
}
