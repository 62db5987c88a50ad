/**
 * The decoder model (prompt encoder + mask decoder, optionally + mask post-processing) recorded as
 * ONNX from the same layer code the tfjs predictor runs. Prompts use the official SAM ONNX export's
 * form: box corners are points labelled 2/3, the caller adds the padding point (label -1) itself, and
 * the number of points N is dynamic; batch 1. `@samtune/export` writes this graph with the official
 * I/O (`postprocess: true`, `maskInput: true`); the in-process ORT engine runs it without
 * post-processing (that is a second, weight-free graph: `recordPostprocessGraph`).
 */
import type { SamConfig, PromptEncoderConfig } from '../../config.js';
import {
  MASK_DECODER_PREFIX,
  maskDecoderImageSide,
  predictMasks,
  predictMasksOnImageSide,
} from '../../mask-decoder.js';
import {
  DENSE_PE_KEY,
  PROMPT_ENCODER_PREFIX,
  embedMasks,
  embedPoints,
  noMaskDense,
  preparePromptEncoderWeights,
} from '../../prompt-encoder.js';
import { OnnxGraphBuilder, OnnxGraphOps, type OnnxValue } from '@samtune/onnx';
import { type WeightMap } from '@samtune/tensor';
import { postprocessInGraph, selectMaskInGraph } from './graph-steps.js';
import { upscaleMasksChannelsLast } from './upscale.js';

/** Opset of the recorded decoder graphs (>= 17 for LayerNormalization). */
export const DECODER_GRAPH_OPSET = 17;

/**
 * Official `SamOnnxModel._embed_masks`: `has * mask_downscaling(mask) + (1 - has) * no_mask_embed`
 * (SAM 2 exports use the same form).
 * @param maskInput `[1,1,4h,4w]`
 * @param hasMaskInput `[1]` 0 or 1
 * @returns dense embeddings `[1,C,h,w]`
 */
export function denseEmbedding(
  ops: OnnxGraphOps,
  cfg: PromptEncoderConfig,
  maskInput: OnnxValue,
  hasMaskInput: OnnxValue,
): OnnxValue {
  const has = ops.reshape(hasMaskInput, [1, 1, 1, 1]);
  const masked = ops.mul(embedMasks(ops, maskInput), has);
  const noMask = ops.reshape(ops.param(`${PROMPT_ENCODER_PREFIX}no_mask_embed.weight`), [1, cfg.embedDim, 1, 1]);
  return ops.add(masked, ops.mul(noMask, ops.addScalar(ops.scale(has, -1), 1)));
}

/**
 * The weights a decoder graph reads: `prompt_encoder.*` and `mask_decoder.*` of `weights`, plus the
 * prepared prompt-encoder tensors (`preparePromptEncoderWeights`: the dense PE).
 */
export function decoderSideWeights(pe: PromptEncoderConfig, weights: WeightMap): WeightMap {
  const used = new Map(
    [...weights].filter(([k]) => k.startsWith(PROMPT_ENCODER_PREFIX) || k.startsWith(MASK_DECODER_PREFIX)),
  );
  for (const [k, v] of preparePromptEncoderWeights(pe, weights)) used.set(k, v);
  return used;
}

/** Options of `recordDecoderGraph`. */
export interface DecoderGraphOptions {
  /** `multimask`: all 1+M tokens (official `return_single_mask=False`); `single_mask`: the rule's one mask. */
  readonly variant: 'multimask' | 'single_mask';
  /**
   * Take `mask_input [1,1,4h,4w]` and `has_mask_input [1]` (official export; default true). Without
   * them the dense embedding is `no_mask_embed` and the mask-downscaling convs are not in the graph.
   */
  readonly maskInput?: boolean;
  /** Record post-processing to `orig_im_size` (input) as the `masks` output (default true). */
  readonly postprocess?: boolean;
  /** Opset (default `DECODER_GRAPH_OPSET`). */
  readonly opset?: number;
  /**
   * Record the faster forms the in-process ORT engine runs (the same values, float32 rounding
   * aside): the cross-attentions re-associated (`image-attention.ts`) and the channels-last mask
   * head (`upscaleMasksChannelsLast`). Default false: the official layer structure.
   */
  readonly fast?: boolean;
}

/**
 * Records the decoder graph. Inputs (all float32): `image_embeddings [1,C,h,w]`,
 * `point_coords [1,N,2]` (1024 frame, XY), `point_labels [1,N]`, then with `maskInput`
 * `mask_input [1,1,4h,4w]` and `has_mask_input [1]`, then with `postprocess` `orig_im_size [2]`
 * (H,W). Outputs: with `postprocess` `masks [1,M,H,W]` (logits), then `iou_predictions [1,M]`,
 * `low_res_masks [1,M,4h,4w]`; M = 4 (multimask) or 1 (single-mask).
 * @param weights checkpoint weights; only `prompt_encoder.*` and `mask_decoder.*` are read.
 */
export function recordDecoderGraph(config: SamConfig, weights: WeightMap, opts: DecoderGraphOptions): OnnxGraphOps {
  const withMask = opts.maskInput ?? true;
  const withPost = opts.postprocess ?? true;
  const pe = config.promptEncoder;
  const ops = new OnnxGraphOps(
    decoderSideWeights(pe, weights),
    new OnnxGraphBuilder({ name: `samtune_decoder_${opts.variant}`, opset: opts.opset ?? DECODER_GRAPH_OPSET }),
  );
  const c = pe.embedDim;
  const [eh, ew] = pe.imageEmbeddingSize;

  const embeddings = ops.input('image_embeddings', [1, c, eh, ew]);
  const coords = ops.input('point_coords', [1, 'num_points', 2]);
  const labels = ops.input('point_labels', [1, 'num_points']);
  const maskInput = withMask ? ops.input('mask_input', [1, 1, 4 * eh, 4 * ew]) : undefined;
  const hasMaskInput = withMask ? ops.input('has_mask_input', [1]) : undefined;
  const origImSize = withPost ? ops.input('orig_im_size', [2]) : undefined;

  // The official ONNX recipe: the caller passes box corners as points (labels 2/3) and the padding
  // point itself, so no padding is added here.
  const sparse = ops.scoped('prompt_encoder', () => embedPoints(ops, pe, coords, labels, false));
  const dense = ops.scoped('prompt_encoder', () =>
    maskInput && hasMaskInput ? denseEmbedding(ops, pe, maskInput, hasMaskInput) : noMaskDense(ops, pe, 1),
  );
  const inputs = { imageEmbeddings: embeddings, imagePe: ops.param(DENSE_PE_KEY), sparse, dense };
  const all = ops.scoped('mask_decoder', () =>
    opts.fast
      ? predictMasksOnImageSide(
          ops,
          config.maskDecoder,
          maskDecoderImageSide(ops, config.maskDecoder, inputs),
          sparse,
          [eh, ew],
          { upscale: upscaleMasksChannelsLast, reassociate: true },
        )
      : predictMasks(ops, config.maskDecoder, inputs),
  );
  const numMultimask = config.maskDecoder.numMultimaskOutputs;
  const picked =
    opts.variant === 'single_mask' ? selectMaskInGraph(ops, labels, all.masks, all.iou, numMultimask) : all;
  const m = opts.variant === 'single_mask' ? 1 : numMultimask + 1;
  if (origImSize) {
    const masks = postprocessInGraph(ops, picked.masks, origImSize, config.imageEncoder.imgSize);
    ops.output('masks', masks, [1, m, 'orig_height', 'orig_width']);
  }
  ops.output('iou_predictions', picked.iou, [1, m]);
  ops.output('low_res_masks', picked.masks, [1, m, 4 * eh, 4 * ew]);
  return ops;
}
