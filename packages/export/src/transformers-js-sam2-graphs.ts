/**
 * The two ONNX graphs of a transformers.js `sam2` folder, recorded from sam-model's SAM 2.1 layers
 * (the same code as the tfjs `Sam2Predictor`, training and the samexporter export), with the I/O that
 * `@huggingface/transformers`' `Sam2Model` feeds and reads (models/sam2/modeling_sam2.js):
 *
 * - `onnx/vision_encoder.onnx`: `pixel_values [1,3,S,S]` (the image stretched to SxS, /255,
 *   ImageNet mean/std: what the `Sam2Processor` config of `transformers-js-sam2-config.ts` makes) ->
 *   `image_embeddings.0 [1,32,S/4,S/4]`, `image_embeddings.1 [1,64,S/8,S/8]` (neck levels 0/1
 *   through `conv_s0` / `conv_s1`), `image_embeddings.2 [1,256,S/16,S/16]` (level 2 + `no_mem_embed`).
 * - `onnx/prompt_encoder_mask_decoder.onnx`: the three embeddings, `input_points [1,1,N,2]` float32
 *   XY in the S frame (the processor scales original pixels per axis, `x·S/W`, `y·S/H`: SAM 2's two
 *   scales), `input_labels [1,1,N]` int64, `input_boxes [1,K,4]` float32 XYXY in the S frame with
 *   K = 0 or 1 -> `iou_scores [1,1,M]`, `pred_masks [1,1,M,S/4,S/4]` low-res logits (NOT clamped:
 *   the processor's `post_process_masks` upsamples them to the original size, as the official
 *   predictor does from the unclamped logits), `object_score_logits [1,1,1]`.
 *
 * Zero-size inputs are what transformers.js sends for a missing prompt kind: points only ->
 * `input_boxes [1,0,4]`; a box only -> `input_points [1,1,0,2]`, `input_labels [1,1,0]`. The
 * tokens are the official `SAM2ImagePredictor`'s: box corners (labels 2, 3) first, then the points,
 * then the padding point (label -1), always appended. One prompt per call: point batch 1 and at most
 * one box (a point batch other than 1 fails in the graph's Squeeze).
 *
 * M is 1 (`single_mask`: the mask samtune's SAM 2.1 predictor returns with `multimask: 'auto'`) or 3
 * (`multimask`: tokens 1..3, `SAM2ImagePredictor(multimask_output=True)`).
 */
import {
  embedPoints,
  noMaskDense,
  prepareSam2EncoderWeights,
  sam2DecodeInGraph,
  sam2DecoderOps,
  sam2ImageEncoder,
  type HieraConfig,
  type Sam2DecoderConfig,
  type WeightMap,
} from '@samtune/sam-model';
import { OnnxGraphBuilder, OnnxGraphOps, type OnnxValue } from '@samtune/onnx';
import { EXPORT_OPSET, type DecoderVariant } from './contract.js';

/** transformers.js' session input/output names for `sam2`. */
export const TJS_SAM2_NAMES = {
  pixelValues: 'pixel_values',
  embeddings: ['image_embeddings.0', 'image_embeddings.1', 'image_embeddings.2'],
  inputPoints: 'input_points',
  inputLabels: 'input_labels',
  inputBoxes: 'input_boxes',
  iouScores: 'iou_scores',
  predMasks: 'pred_masks',
  objectScoreLogits: 'object_score_logits',
} as const;

const ONNX_FLOAT = 1;
const ONNX_INT64 = 7;

/** Records `onnx/vision_encoder.onnx` (module comment). Reads `image_encoder.*`, `no_mem_embed`, `conv_s0/1`. */
export function recordSam2VisionEncoderGraph(config: HieraConfig, weights: WeightMap): OnnxGraphOps {
  const ops = new OnnxGraphOps(
    prepareSam2EncoderWeights(config, weights),
    new OnnxGraphBuilder({ name: 'samtune_transformers_js_sam2_vision_encoder', opset: EXPORT_OPSET }),
  );
  const x = ops.input(TJS_SAM2_NAMES.pixelValues, [1, config.inChans, config.imgSize, config.imgSize]);
  const f = ops.scoped('image_encoder', () => sam2ImageEncoder(ops, config, x));
  const [e0, e1, e2] = TJS_SAM2_NAMES.embeddings;
  ops.output(e0, f.highResFeats[0]);
  ops.output(e1, f.highResFeats[1]);
  ops.output(e2, f.imageEmbed);
  return ops;
}

/**
 * The prompt tokens' coordinates and labels: `input_boxes [1,K,4]` (K 0 or 1) -> corners `[1,2K,2]`
 * labelled 2, 3; then the points. Returns `coords [1,2K+N,2]`, `labels [1,2K+N]` float (no padding).
 */
function promptPoints(
  ops: OnnxGraphOps,
  points: OnnxValue,
  labels64: OnnxValue,
  boxes: OnnxValue,
): { coords: OnnxValue; labels: OnnxValue } {
  return ops.scoped('prompts', () => {
    const axis1 = ops.int64Const([1]);
    const pts = ops.emit('Squeeze', [points.name, axis1], [1, -1, 2]); // fails unless the point batch is 1
    const lab = ops.emit('Cast', [ops.emit('Squeeze', [labels64.name, axis1], [1, -1])], [1, -1], { to: ONNX_FLOAT });
    const corners = ops.reshape(boxes, [1, -1, 2]); // [1,2K,2]
    const twoK = ops.emit('Shape', [corners], [1], { start: 1, end: 2 });
    const cornerLabels = ops.emit(
      'Slice',
      [ops.constant(Float32Array.of(2, 3), [1, 2], 'box_corner_labels').name, ops.int64Const([0]), twoK.name, axis1],
      [1, -1],
    );
    return { coords: ops.concat([corners, pts], 1), labels: ops.concat([cornerLabels, lab], 1) };
  });
}

/** Number of entries of `labels [1,T]` equal to one of `values`, a float scalar `[]`. */
function countLabels(ops: OnnxGraphOps, labels: OnnxValue, values: readonly number[]): OnnxValue {
  const hits = values.map((v) => ops.equalScalar(labels, v)).reduce((a, b) => ops.add(a, b));
  return ops.emit('ReduceSum', [hits], [], { keepdims: 0 });
}

/** Count of `x > v` over all of `x`, a float scalar `[]`. */
function countAbove(ops: OnnxGraphOps, x: OnnxValue, v: number): OnnxValue {
  const above = ops.emit('Greater', [x, ops.constant(Float32Array.of(v), [], 'stability_delta')], x.shape);
  return ops.emit('ReduceSum', [ops.emit('Cast', [above], x.shape, { to: ONNX_FLOAT })], [], { keepdims: 0 });
}

/**
 * samtune's SAM 2.1 `multimask: 'auto'` inside the graph (`Sam2Model.predict`): exactly one point
 * (label 0/1) and no box corner -> the best predicted IoU of tokens 1..3 (first on ties); else
 * `SAM2ImagePredictor`'s single-mask call: token 0, unless its stability score
 * `#(logit > delta) / #(logit > -delta)` (1 when the second count is 0) is below the threshold,
 * then the best of tokens 1..3.
 * @param labels `[1,T]` prompt labels without the padding point; `masks [1,4,h,w]`, `iou [1,4]`
 * @returns masks `[1,1,h,w]`, iou `[1,1]`
 */
export function selectSam2MaskInGraph(
  ops: OnnxGraphOps,
  cfg: Sam2DecoderConfig['maskDecoder'],
  labels: OnnxValue,
  masks: OnnxValue,
  iou: OnnxValue,
): { masks: OnnxValue; iou: OnnxValue } {
  return ops.scoped('select_mask', () => {
    const ambiguous = ops.mul(
      ops.equalScalar(countLabels(ops, labels, [0, 1]), 1),
      ops.equalScalar(countLabels(ops, labels, [2, 3]), 0),
    );
    const token0 = ops.slice(masks, 1, 0, 1);
    const delta = cfg.dynamicMultimaskStabilityDelta;
    const inter = countAbove(ops, token0, delta);
    const union = countAbove(ops, token0, -delta);
    const empty = ops.equalScalar(union, 0);
    const score = ops.div(ops.add(inter, empty), ops.add(union, empty));
    const unstable = ops.addScalar(
      ops.scale(ops.greaterEqualScalar(score, cfg.dynamicMultimaskStabilityThresh), -1),
      1,
    );
    const useBest = ops.emit('Max', [ambiguous, unstable], []);
    const best = ops.emit('ArgMax', [ops.slice(iou, 1, 1, 4)], [1], { axis: 1, keepdims: 0 }); // [1] in 0..2
    const bestTok = ops.addScalar(ops.emit('Cast', [best], [1], { to: ONNX_FLOAT }), 1);
    const index = ops.emit('Cast', [ops.mul(bestTok, useBest)], [1], { to: ONNX_INT64 });
    const [, , h, w] = masks.shape as [number, number, number, number];
    return {
      masks: ops.emit('Gather', [masks, index], [1, 1, h, w], { axis: 1 }),
      iou: ops.emit('Gather', [iou, index], [1, 1], { axis: 1 }),
    };
  });
}

/** Options of `recordSam2PromptMaskDecoderGraph`. */
export interface Sam2PromptMaskDecoderGraphOptions {
  /** `single_mask` (default): the rule's one mask; `multimask`: tokens 1..3. */
  readonly variant?: DecoderVariant;
}

/**
 * Records `onnx/prompt_encoder_mask_decoder.onnx` (module comment).
 * @param weights samtune-named decoder-side weights (`sam2PredictorWeights` of a SAM 2.1 state dict)
 */
export function recordSam2PromptMaskDecoderGraph(
  weights: WeightMap,
  config: Sam2DecoderConfig,
  opts: Sam2PromptMaskDecoderGraphOptions = {},
): OnnxGraphOps {
  const variant = opts.variant ?? 'single_mask';
  const ops = sam2DecoderOps(weights, config, {
    name: `samtune_transformers_js_sam2_decoder_${variant}`,
    opset: EXPORT_OPSET,
  });
  const pe = config.promptEncoder;
  const c = pe.embedDim;
  const [eh, ew] = pe.imageEmbeddingSize;
  const [n0, n1, n2] = TJS_SAM2_NAMES.embeddings;
  const s0 = ops.input(n0, [1, c / 8, 4 * eh, 4 * ew]);
  const s1 = ops.input(n1, [1, c / 4, 2 * eh, 2 * ew]);
  const embed = ops.input(n2, [1, c, eh, ew]);
  const points = ops.input(TJS_SAM2_NAMES.inputPoints, [1, 'point_batch_size', 'num_points', 2]);
  const labels64 = ops.input(TJS_SAM2_NAMES.inputLabels, [1, 'label_batch_size', 'num_labels'], 'int64');
  const boxes = ops.input(TJS_SAM2_NAMES.inputBoxes, [1, 'num_boxes', 4]);

  const prompt = promptPoints(ops, points, labels64, boxes);
  const sparse = ops.scoped('prompt_encoder', () => embedPoints(ops, pe, prompt.coords, prompt.labels, true));
  const dense = ops.scoped('prompt_encoder', () => noMaskDense(ops, pe, 1));
  const all = sam2DecodeInGraph(ops, config, { embed, s0, s1 }, sparse, dense);
  const picked =
    variant === 'single_mask'
      ? selectSam2MaskInGraph(ops, config.maskDecoder, prompt.labels, all.masks, all.iou)
      : { masks: ops.slice(all.masks, 1, 1, 4), iou: ops.slice(all.iou, 1, 1, 4) };
  const m = variant === 'single_mask' ? 1 : 3;
  ops.output(TJS_SAM2_NAMES.iouScores, ops.reshape(picked.iou, [1, 1, m]));
  ops.output(TJS_SAM2_NAMES.predMasks, ops.reshape(picked.masks, [1, 1, m, 4 * eh, 4 * ew]));
  ops.output(TJS_SAM2_NAMES.objectScoreLogits, ops.reshape(all.objectScore, [1, 1, 1]));
  return ops;
}
