/**
 * The SAM 2.1 decoder (prompt encoder + mask decoder) recorded as ONNX from the one `Ops<T>` code the
 * tfjs predictor and the training graphs run (`embedPoints` / `denseEmbedding` / `noMaskDense`,
 * `sam2PredictMasks`). Batch 1, the number of points N dynamic, inputs in samexporter's
 * `SAM2ImageDecoder` names (float32):
 *
 * - `image_embed [1,256,64,64]` (neck level 2 + `no_mem_embed`), `high_res_feats_0 [1,32,256,256]`,
 *   `high_res_feats_1 [1,64,128,128]` (after `conv_s0`/`conv_s1`);
 * - `point_coords [1,N,2]` (1024 frame, `x·1024/W`, `y·1024/H`; a box as two points labelled 2/3
 *   BEFORE the clicks), `point_labels [1,N]`; the padding point (label -1) is appended in the graph;
 * - with `maskInput`: `mask_input [1,1,256,256]`, `has_mask_input [1]`.
 *
 * `sam2DecoderGraph` returns the recorder and the decoder's values; `@samtune/export` adds
 * samexporter's outputs, the in-process engine (`Sam2OrtDecoder`) those of `recordSam2EngineGraph`.
 */
import { OnnxGraphBuilder, OnnxGraphOps } from '@samtune/onnx';
import type { OnnxValue } from '@samtune/onnx';
import type { WeightMap } from '@samtune/tensor';
import { DENSE_PE_KEY, embedPoints, noMaskDense } from '../prompt-encoder.js';
import { DECODER_GRAPH_OPSET, decoderSideWeights, denseEmbedding } from '../engines/ort-decoder/decoder-graph.js';
import { SAM2_DECODER_CONFIG, type Sam2DecoderConfig } from './mask-decoder-config.js';
import { sam2PredictMasks, type Sam2MaskDecoderOutputs } from './mask-decoder.js';

/** Options of `sam2DecoderGraph`. */
export interface Sam2DecoderGraphOptions {
  /** Graph name (default `samtune_sam2_decoder`). */
  readonly name?: string;
  /** Opset (default `DECODER_GRAPH_OPSET`). */
  readonly opset?: number;
  /**
   * Take `mask_input` / `has_mask_input` (default true). Without them the dense embedding is
   * `no_mask_embed` and the mask-downscaling convs are not in the graph.
   */
  readonly maskInput?: boolean;
  /** `OnnxGraphOps`' `gemmLinear` (a Gemm for 2-D linear layers; default false). */
  readonly gemmLinear?: boolean;
}

/** The recorder and the decoder's values: `masks [1,4,256,256]`, `iou [1,4]`, `objectScore [1,1]`. */
export interface Sam2DecoderGraph {
  readonly ops: OnnxGraphOps;
  readonly outputs: Sam2MaskDecoderOutputs<OnnxValue>;
}

/**
 * Records the SAM 2.1 decoder's inputs and computation (module comment); the caller declares the outputs.
 * @param weights samtune-named decoder-side weights (`sam2PredictorWeights` of a SAM 2.1 state dict)
 */
export function sam2DecoderGraph(
  weights: WeightMap,
  config: Sam2DecoderConfig = SAM2_DECODER_CONFIG,
  opts: Sam2DecoderGraphOptions = {},
): Sam2DecoderGraph {
  const pe = config.promptEncoder;
  const ops = sam2DecoderOps(weights, config, opts);
  const c = pe.embedDim;
  const [eh, ew] = pe.imageEmbeddingSize;
  const embed = ops.input('image_embed', [1, c, eh, ew]);
  const s0 = ops.input('high_res_feats_0', [1, c / 8, 4 * eh, 4 * ew]);
  const s1 = ops.input('high_res_feats_1', [1, c / 4, 2 * eh, 2 * ew]);
  const coords = ops.input('point_coords', [1, 'num_points', 2]);
  const labels = ops.input('point_labels', [1, 'num_points']);
  const withMask = opts.maskInput ?? true;
  const maskInput = withMask ? ops.input('mask_input', [1, 1, 4 * eh, 4 * ew]) : undefined;
  const hasMaskInput = withMask ? ops.input('has_mask_input', [1]) : undefined;

  const sparse = ops.scoped('prompt_encoder', () => embedPoints(ops, pe, coords, labels, true));
  const dense = ops.scoped('prompt_encoder', () =>
    maskInput && hasMaskInput ? denseEmbedding(ops, pe, maskInput, hasMaskInput) : noMaskDense(ops, pe, 1),
  );
  return { ops, outputs: sam2DecodeInGraph(ops, config, { embed, s0, s1 }, sparse, dense) };
}

/**
 * An empty recorder over the decoder-side weights (`prompt_encoder.*`, `mask_decoder.*`) and the
 * prepared prompt-encoder tensors (`DENSE_PE_KEY`): what every SAM 2.1 decoder graph starts from
 * (this file's, and `@samtune/export`'s transformers.js one, whose inputs differ).
 * @param weights samtune-named decoder-side weights (`sam2PredictorWeights` of a SAM 2.1 state dict)
 */
export function sam2DecoderOps(
  weights: WeightMap,
  config: Sam2DecoderConfig,
  opts: Pick<Sam2DecoderGraphOptions, 'name' | 'opset' | 'gemmLinear'> = {},
): OnnxGraphOps {
  return new OnnxGraphOps(
    decoderSideWeights(config.promptEncoder, weights),
    new OnnxGraphBuilder({ name: opts.name ?? 'samtune_sam2_decoder', opset: opts.opset ?? DECODER_GRAPH_OPSET }),
    { gemmLinear: opts.gemmLinear ?? false },
  );
}

/**
 * The mask decoder on recorded features and prompt embeddings: all tokens' masks `[1,4,4h,4w]`,
 * IoU `[1,4]` and the object score `[1,1]`.
 * @param f `embed [1,C,h,w]` (+ `no_mem_embed`), `s0` / `s1` the projected high-res levels
 */
export function sam2DecodeInGraph(
  ops: OnnxGraphOps,
  config: Sam2DecoderConfig,
  f: { readonly embed: OnnxValue; readonly s0: OnnxValue; readonly s1: OnnxValue },
  sparse: OnnxValue,
  dense: OnnxValue,
): Sam2MaskDecoderOutputs<OnnxValue> {
  return ops.scoped('mask_decoder', () =>
    sam2PredictMasks(ops, config.maskDecoder, {
      imageEmbeddings: f.embed,
      imagePe: ops.param(DENSE_PE_KEY),
      sparse,
      dense,
      highResFeatures: [f.s0, f.s1],
    }),
  );
}

/**
 * The in-process engine's graph: `sam2DecoderGraph` with every token's output, unclamped:
 * `low_res_masks [1,4,256,256]`, `iou_predictions [1,4]`, `object_score_logits [1,1]`.
 */
export function recordSam2EngineGraph(
  weights: WeightMap,
  config: Sam2DecoderConfig,
  opts: Pick<Sam2DecoderGraphOptions, 'maskInput'> = {},
): OnnxGraphOps {
  const { ops, outputs } = sam2DecoderGraph(weights, config, {
    ...opts,
    name: 'samtune_sam2_decoder_engine',
    gemmLinear: true,
  });
  const [eh, ew] = config.promptEncoder.imageEmbeddingSize;
  const t = config.maskDecoder.numMultimaskOutputs + 1;
  ops.output('low_res_masks', outputs.masks, [1, t, 4 * eh, 4 * ew]);
  ops.output('iou_predictions', outputs.iou, [1, t]);
  ops.output('object_score_logits', outputs.objectScore, [1, 1]);
  return ops;
}
