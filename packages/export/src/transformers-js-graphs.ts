/**
 * The two ONNX graphs of a transformers.js SAM folder, recorded from the same layer code as every
 * other samtune model, with the I/O that `@huggingface/transformers`' `SamModel` feeds and reads
 * (its `get_image_embeddings` and `forward` in models/sam/modeling_sam.js):
 *
 * - `onnx/vision_encoder.onnx`: `pixel_values [1,3,S,S]` (resized to longest side S, normalised,
 *   zero-padded bottom/right: what `SamImageProcessor` makes) -> `image_embeddings [1,C,S/16,S/16]`
 *   and `image_positional_embeddings [1,C,S/16,S/16]` (the dense positional encoding `get_dense_pe()`).
 * - `onnx/prompt_encoder_mask_decoder.onnx`: `image_embeddings`, `image_positional_embeddings`,
 *   `input_points [1,1,N,2]` float32 XY in the S frame (the processor scales original pixels per
 *   axis), `input_labels [1,1,N]` int64 -> `iou_scores [1,1,M]`, `pred_masks [1,1,M,4h,4w]` low-res
 *   logits (the processor's `post_process_masks` upsamples, crops and resizes them).
 *
 * Labels: 1 foreground, 0 background, 2 / 3 box top-left / bottom-right corner (a box is given as two
 * points), -1 not-a-point, -10 padding (zero token, HF's convention). A padding point (0,0) labelled
 * -1 is appended inside the graph unless a box corner is present: the official `SamPredictor`
 * behaviour. The point batch (dim 1) is 1: one prompt per call. M is 1 (the samtune mask-selection
 * rule, `single_mask`) or 4 (all tokens, `multimask`: token 0 then the multimask tokens 1..3).
 */
import {
  DENSE_PE_KEY,
  embedPoints,
  IMAGE_ENCODER_PREFIX,
  imageEncoder,
  MASK_DECODER_PREFIX,
  noMaskDense,
  predictMasks,
  prepareImageEncoderWeights,
  preparePromptEncoderWeights,
  PROMPT_ENCODER_PREFIX,
  type SamConfig,
  type WeightMap,
} from '@samtune/sam-model';
import { OnnxGraphBuilder, OnnxGraphOps, type OnnxValue } from '@samtune/onnx';
import { EXPORT_OPSET, type DecoderVariant } from './contract.js';
import { selectMaskInGraph } from './graph-steps.js';

/** transformers.js' session input/output names for SAM. */
export const TJS_NAMES = {
  pixelValues: 'pixel_values',
  imageEmbeddings: 'image_embeddings',
  imagePositionalEmbeddings: 'image_positional_embeddings',
  inputPoints: 'input_points',
  inputLabels: 'input_labels',
  iouScores: 'iou_scores',
  predMasks: 'pred_masks',
} as const;

/** HF's label of a padding point whose token is zeroed (not the official -1 not-a-point). */
export const TJS_PADDING_LABEL = -10;

const ONNX_FLOAT = 1;
const ONNX_INT64 = 7;

/** Records `onnx/vision_encoder.onnx` (see the module doc). Reads `image_encoder.*` and the prompt encoder's PE matrix. */
export function recordVisionEncoderGraph(config: SamConfig, weights: WeightMap): OnnxGraphOps {
  const enc = config.imageEncoder;
  const own: WeightMap = new Map([...weights].filter(([k]) => k.startsWith(IMAGE_ENCODER_PREFIX)));
  const prepared = new Map([
    ...prepareImageEncoderWeights(enc, own),
    ...preparePromptEncoderWeights(config.promptEncoder, weights),
  ]);
  const ops = new OnnxGraphOps(
    prepared,
    new OnnxGraphBuilder({ name: 'samtune_transformers_js_vision_encoder', opset: EXPORT_OPSET }),
  );
  const x = ops.input(TJS_NAMES.pixelValues, [1, enc.inChans, enc.imgSize, enc.imgSize]);
  const emb = ops.scoped('image_encoder', () => imageEncoder(ops, enc, x));
  ops.output(TJS_NAMES.imageEmbeddings, emb);
  ops.output(TJS_NAMES.imagePositionalEmbeddings, ops.param(DENSE_PE_KEY));
  return ops;
}

/**
 * Appends the padding point `(0,0)` / label -1 unless a label is a box corner (2 or 3), the official
 * predictor's rule, with a run-time slice: `coords [1,N,2]`, `labels [1,N]` -> `[1,N or N+1,…]`.
 */
function padUnlessBox(
  ops: OnnxGraphOps,
  coords: OnnxValue,
  labels: OnnxValue,
): { coords: OnnxValue; labels: OnnxValue } {
  return ops.scoped('pad_points', () => {
    const allCoords = ops.concat([coords, ops.scale(ops.slice(coords, 1, 0, 1), 0)], 1);
    const allLabels = ops.concat([labels, ops.addScalar(ops.scale(ops.slice(labels, 1, 0, 1), 0), -1)], 1);
    const corner = ops.add(ops.equalScalar(labels, 2), ops.equalScalar(labels, 3));
    const hasBox = ops.emit('ReduceMax', [corner], [], { keepdims: 0 }); // [] 0 or 1
    const hasBox1 = ops.emit(
      'Reshape',
      [ops.emit('Cast', [hasBox], [], { to: ONNX_INT64 }).name, ops.int64Const([1])],
      [1],
    );
    const n1 = ops.emit('Shape', [allLabels], [1], { start: 1, end: 2 }); // N + 1
    const keep = ops.emit('Sub', [n1, hasBox1], [1]);
    const zero = ops.int64Const([0]);
    const axis = ops.int64Const([1]);
    return {
      coords: ops.emit('Slice', [allCoords.name, zero, keep.name, axis], [1, -1, 2]),
      labels: ops.emit('Slice', [allLabels.name, zero, keep.name, axis], [1, -1]),
    };
  });
}

/** Options of `recordPromptMaskDecoderGraph`. */
export interface PromptMaskDecoderGraphOptions {
  /** `single_mask` (default): the rule's one mask; `multimask`: all 4 tokens. */
  readonly variant?: DecoderVariant;
}

/** Records `onnx/prompt_encoder_mask_decoder.onnx` (see the module doc). Reads `prompt_encoder.*` and `mask_decoder.*`. */
export function recordPromptMaskDecoderGraph(
  config: SamConfig,
  weights: WeightMap,
  opts: PromptMaskDecoderGraphOptions = {},
): OnnxGraphOps {
  const variant = opts.variant ?? 'single_mask';
  const pe = config.promptEncoder;
  const used: WeightMap = new Map(
    [...weights].filter(([k]) => k.startsWith(PROMPT_ENCODER_PREFIX) || k.startsWith(MASK_DECODER_PREFIX)),
  );
  const ops = new OnnxGraphOps(
    used,
    new OnnxGraphBuilder({ name: `samtune_transformers_js_decoder_${variant}`, opset: EXPORT_OPSET }),
  );
  const c = pe.embedDim;
  const [eh, ew] = pe.imageEmbeddingSize;
  const embeddings = ops.input(TJS_NAMES.imageEmbeddings, [1, c, eh, ew]);
  const imagePe = ops.input(TJS_NAMES.imagePositionalEmbeddings, [1, c, eh, ew]);
  const points = ops.input(TJS_NAMES.inputPoints, [1, 1, 'num_points', 2]);
  const labels64 = ops.input(TJS_NAMES.inputLabels, [1, 1, 'num_points'], 'int64');

  const coords = ops.reshape(points, [1, -1, 2]);
  const labelsF = ops.reshape(ops.emit('Cast', [labels64], [1, 1, -1], { to: ONNX_FLOAT }), [1, -1]);
  const padded = padUnlessBox(ops, coords, labelsF);
  const sparse = ops.scoped('prompt_encoder', () => {
    const emb = embedPoints(ops, pe, padded.coords, padded.labels, false); // [1,N',C]
    const keep = ops.addScalar(ops.scale(ops.equalScalar(padded.labels, TJS_PADDING_LABEL), -1), 1); // [1,N']
    return ops.mul(emb, ops.reshape(keep, [1, -1, 1]));
  });
  const dense = ops.scoped('prompt_encoder', () => noMaskDense(ops, pe, 1));
  const all = ops.scoped('mask_decoder', () =>
    predictMasks(ops, config.maskDecoder, { imageEmbeddings: embeddings, imagePe, sparse, dense }),
  );
  const numMultimask = config.maskDecoder.numMultimaskOutputs;
  const picked =
    variant === 'single_mask' ? selectMaskInGraph(ops, padded.labels, all.masks, all.iou, numMultimask) : all;
  const m = variant === 'single_mask' ? 1 : numMultimask + 1;
  ops.output(TJS_NAMES.iouScores, ops.reshape(picked.iou, [1, 1, m]));
  ops.output(TJS_NAMES.predMasks, ops.reshape(picked.masks, [1, 1, m, 4 * eh, 4 * ew]));
  return ops;
}
