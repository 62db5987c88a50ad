/**
 * The SAM 2.1 decoder model in the I/O of samexporter's `export_sam2.py` (`SAM2ImageDecoder`), which
 * X-AnyLabeling loads for SAM 2.1: sam-model's `sam2DecoderGraph` (recorded from the SAM 2 layers the
 * tfjs predictor, the ORT engine `Sam2OrtDecoder` and the training graphs run) with samexporter's
 * outputs. Batch 1, the number of points N dynamic:
 *
 * - inputs (float32): `image_embed [1,256,64,64]` (neck level 2 + `no_mem_embed`),
 *   `high_res_feats_0 [1,32,256,256]`, `high_res_feats_1 [1,64,128,128]` (after `conv_s0`/`conv_s1`),
 *   `point_coords [1,N,2]` (1024 frame: `x·1024/W`, `y·1024/H`; a box as two points labelled 2/3),
 *   `point_labels [1,N]` (1, 0, 2, 3), `mask_input [1,1,256,256]`, `has_mask_input [1]`;
 *   the padding point (label -1) is appended inside the graph, as samexporter does;
 * - outputs: `masks [1,3,256,256]` low-res logits of mask tokens 1..3, clamped to ±32,
 *   `iou_predictions [1,3]` (samexporter exports `multimask_output=True`).
 */
import {
  SAM2_DECODER_CONFIG,
  SAM2_LOW_RES_CLAMP,
  sam2DecoderGraph,
  type Sam2DecoderConfig,
  type WeightMap,
} from '@samtune/sam-model';
import type { OnnxGraphOps } from '@samtune/onnx';
import { EXPORT_OPSET } from './contract.js';

/** Input names of the samexporter SAM 2 decoder, in its order. */
export const SAM2_DECODER_INPUTS = [
  'image_embed',
  'high_res_feats_0',
  'high_res_feats_1',
  'point_coords',
  'point_labels',
  'mask_input',
  'has_mask_input',
] as const;
/** Output names of the samexporter SAM 2 decoder. */
export const SAM2_DECODER_OUTPUTS = ['masks', 'iou_predictions'] as const;

/**
 * Records the SAM 2.1 decoder (module comment).
 * @param weights samtune-named decoder-side weights (`sam2PredictorWeights` of a SAM 2.1 state dict)
 */
export function recordSam2DecoderGraph(
  weights: WeightMap,
  config: Sam2DecoderConfig = SAM2_DECODER_CONFIG,
): OnnxGraphOps {
  const { ops, outputs: all } = sam2DecoderGraph(weights, config, {
    name: 'samtune_sam2_decoder',
    opset: EXPORT_OPSET,
  });
  const [eh, ew] = config.promptEncoder.imageEmbeddingSize;
  const m = config.maskDecoder.numMultimaskOutputs;
  const multi = ops.slice(all.masks, 1, 1, m + 1);
  const bound = (v: number) => ops.constant(Float32Array.of(v), [], v < 0 ? 'clamp_min' : 'clamp_max');
  const clamped = ops.emit(
    'Clip',
    [multi, bound(-SAM2_LOW_RES_CLAMP), bound(SAM2_LOW_RES_CLAMP)],
    [1, m, 4 * eh, 4 * ew],
  );
  ops.output('masks', clamped, [1, m, 4 * eh, 4 * ew]);
  ops.output('iou_predictions', ops.slice(all.iou, 1, 1, m + 1), [1, m]);
  return ops;
}
