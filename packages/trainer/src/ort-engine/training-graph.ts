/**
 * The decoder's training forward as one ONNX graph, recorded with `OnnxGraphOps` from the one model
 * definition (sam-model's prompt encoder + `maskDecoderImageSide`/`predictMasksOnImageSide`, the same
 * values as the tfjs predictor's `maskDecoder`), for a fixed micro-batch size B and points per prompt N.
 * It is recorded in the faster forms that compute the same values: the re-associated cross-attention
 * (`DecoderPlan.reassociate`), the channels-last mask head (`upscaleMasksChannelsLast`, matmuls and no
 * feature-map transpose) and only the mask token(s) the loss sees.
 *
 * - inputs: `image_embeddings [1,256,64,64]` (one image, shared by its B prompts inside the graph),
 *   `boxes [B,4]` XYXY or `point_coords [B,N,2]` + `point_labels [B,N]` (1024 frame),
 *   `targets [B,1,256,256]` (0/1), `loss_scale [1]` (seed of the backward), and every `mask_decoder.*` tensor under its
 *   checkpoint key (graph inputs, so weights live in caller-owned buffers between steps);
 * - the prompt encoder's tensors are frozen initializers;
 * - outputs of the forward: `low_res_masks [B,1,256,256]` logits and `iou_predictions [B,M]` of the
 *   decoder output(s) (M = 3 for a single point, else 1), and the loss values (`@samtune/losses`'
 *   `samLossOn`, the same definition the tfjs engine evaluates).
 */
import {
  MASK_DECODER_PREFIX,
  PROMPT_ENCODER_PREFIX,
  densePe,
  flattenImageSide,
  maskDecoderImageSide,
  predictMasksOnImageSide,
  preparePromptEncoderWeights,
  upscaleMasksChannelsLast,
  embedBoxes,
  embedMasks,
  embedPoints,
  noMaskDense,
  useMultimask,
  type SamConfig,
} from '@samtune/sam-model';
import { OnnxGraphBuilder, OnnxGraphOps } from '@samtune/onnx';
import { toFloat32 } from '@samtune/tensor';
import type { OnnxValue } from '@samtune/onnx';
import type { WeightMap } from '@samtune/tensor';
import { samLossOn, type SamLossConfig } from '@samtune/losses';

/** The fixed shape of a training graph. */
export interface TrainGraphShape {
  /** B, prompts per micro-batch. */
  readonly batch: number;
  /** N, points per prompt (simulated clicks included); 0 = box prompts. */
  readonly numPoints: number;
  /** Box prompts (with `numPoints` clicks after them); default `numPoints === 0`. */
  readonly box?: boolean;
  /** A `mask_input [B,1,256,256]` (the previous pass's logits: simulated clicks). */
  readonly maskInput?: boolean;
  /** The loss at this original size `(H,W)` (`loss.resolution original`). */
  readonly lossSize?: readonly [number, number];
  /** Also output `masks [B,M,256,256]` and `iou [B,M]` (for the next click). */
  readonly outputs?: boolean;
}

/** A key naming the shape (one recorded model and session each). */
export function trainShapeKey(s: TrainGraphShape): string {
  const box = s.box ?? s.numPoints === 0;
  return `${s.batch}x${s.numPoints}${box && s.numPoints > 0 ? '+box' : ''}${s.maskInput ? '+mask' : ''}${s.lossSize ? `@${s.lossSize.join('x')}` : ''}${s.outputs ? '+out' : ''}`;
}

/** A recorded training forward (before differentiation). */
export interface TrainingForward {
  readonly ops: OnnxGraphOps;
  readonly shape: TrainGraphShape;
  /** Whether the decoder returns 3 outputs per prompt and the loss keeps the best one. */
  readonly multimask: boolean;
  /** `mask_decoder.*` keys that are graph inputs (the tensors the graph can differentiate). */
  readonly paramKeys: readonly string[];
  /** `[]` the loss of the micro-batch (differentiate it with the seed `loss_scale`). */
  readonly loss: OnnxValue;
  /** `[4]` `[loss, focal, dice, iou]` (SAM 2.1: `[5]`, `class` appended; means over the B prompts, unscaled). */
  readonly parts: OnnxValue;
  /** `[B,M,256,256]` logits of every output the loss sees. */
  readonly masks: OnnxValue;
  /** `[B,M]`. */
  readonly iou: OnnxValue;
}

/** Graph input names (besides the `mask_decoder.*` keys). */
export const TRAIN_INPUTS = {
  embedding: 'image_embeddings',
  boxes: 'boxes',
  coords: 'point_coords',
  labels: 'point_labels',
  targets: 'targets',
  scale: 'loss_scale',
  maskInput: 'mask_input',
  /** `[H,256]` and `[W,256]`: SAM's post-processing per axis (`recipe/loss-resolution.ts`). */
  lossRows: 'loss_rows',
  lossCols: 'loss_cols',
} as const;

/**
 * Records the forward and the loss of a micro-batch of `shape.batch` prompts of one image.
 * @param weights checkpoint weights (`prompt_encoder.*` and `mask_decoder.*` are read; the decoder's
 *   values only give shapes, they are fed at run time)
 */
export function recordTrainingForward(
  config: SamConfig,
  weights: WeightMap,
  shape: TrainGraphShape,
  lossConfig: SamLossConfig = {},
): TrainingForward {
  const { batch: b, numPoints: n } = shape;
  const hasBox = shape.box ?? n === 0;
  const pe = config.promptEncoder;
  const used: WeightMap = new Map();
  for (const [k, v] of weights) {
    if (k.startsWith(PROMPT_ENCODER_PREFIX)) used.set(k, toFloat32(v));
    else if (k.startsWith(MASK_DECODER_PREFIX)) used.set(k, v);
  }
  for (const [k, v] of preparePromptEncoderWeights(pe, weights)) used.set(k, v);
  const builder = new OnnxGraphBuilder({ name: `samtune_train_${trainShapeKey(shape).replace(/[^a-z0-9]/gi, '_')}` });
  const ops = new OnnxGraphOps(used, builder, {
    transposeWeightsAtBuild: false,
    gemmLinear: true,
    fusedGelu: true,
    paramsAsInputs: (k) => k.startsWith(MASK_DECODER_PREFIX),
  });
  const c = pe.embedDim;
  const [eh, ew] = pe.imageEmbeddingSize;
  const embedding = ops.input(TRAIN_INPUTS.embedding, [1, c, eh, ew]);
  const boxes = hasBox ? ops.input(TRAIN_INPUTS.boxes, [b, 4]) : undefined;
  const points =
    n > 0
      ? { coords: ops.input(TRAIN_INPUTS.coords, [b, n, 2]), labels: ops.input(TRAIN_INPUTS.labels, [b, n]) }
      : undefined;
  const maskInput = shape.maskInput ? ops.input(TRAIN_INPUTS.maskInput, [b, 1, 4 * eh, 4 * ew]) : undefined;
  const [th, tw] = shape.lossSize ?? [4 * eh, 4 * ew];
  const targets = ops.input(TRAIN_INPUTS.targets, [b, 1, th, tw]);
  ops.input(TRAIN_INPUTS.scale, [1]); // the backward's seed (see train-session.ts)
  const multimask = useMultimask({ hasBox, numPoints: n });

  // The official prompt encoder's sparse tokens (points get the padding point when there is no box);
  // the dense `no_mask_embed` grid stays [1,…]: with the [1,…] embedding, the transformer's first
  // image-side projections run once per image, not once per prompt (see `MaskDecoderInputs.dense`).
  // (with a mask input the dense embedding is per prompt, `[B,…]`: the image side runs per prompt)
  const sparse = ops.scoped('prompt_encoder', () => {
    const parts = [
      ...(points ? [embedPoints(ops, pe, points.coords, points.labels, !hasBox)] : []),
      ...(boxes ? [embedBoxes(ops, pe, boxes)] : []),
    ];
    return parts.length === 1 ? (parts[0] as OnnxValue) : ops.concat(parts, 1);
  });
  const dense = ops.scoped('prompt_encoder', () => (maskInput ? embedMasks(ops, maskInput) : noMaskDense(ops, pe, 1)));
  const { masks, iou } = ops.scoped('mask_decoder', () => {
    const md = config.maskDecoder;
    const image = { imageEmbeddings: embedding, imagePe: densePe(ops), dense };
    // block 0's image-side projections once per image pay off from 2 prompts on; for one prompt the
    // re-associated attention (which never projects the image) is cheaper
    const side =
      b >= 2 && !maskInput
        ? maskDecoderImageSide(ops, md, image)
        : flattenImageSide(ops, md, ops.add(embedding, dense), image.imagePe);
    const [start, end] = multimask ? [1, md.numMultimaskOutputs + 1] : [0, 1];
    const out = predictMasksOnImageSide(ops, md, side, sparse, [eh, ew], {
      reassociate: !maskInput || b === 1, // one prompt: the image side is [1,…] either way
      upscale: upscaleMasksChannelsLast,
      maskTokens: [start, end],
    });
    return { masks: out.masks, iou: ops.slice(out.iou, 1, start, end) };
  });
  const loss = ops.scoped('loss', () => {
    const r = samLossOn(ops, shape.lossSize ? toOriginal(ops, masks, shape.lossSize) : masks, iou, targets, lossConfig);
    const parts = ops.concat(
      [r.loss, r.focal, r.dice, r.iou].map((v) => ops.reshape(v, [1])),
      0,
    );
    return { loss: r.loss, parts };
  });
  const paramKeys = builder
    .listInputs()
    .map((i) => i.name)
    .filter((k) => k.startsWith(MASK_DECODER_PREFIX));
  return { ops, shape, multimask, paramKeys, ...loss, masks, iou };
}

/**
 * SAM's `postprocess_masks` of `masks [B,M,S,S]` to `(H,W)` as `Ry · X · Rxᵀ`, the two matrices graph
 * inputs (`loss_rows [H,S]`, `loss_cols [W,S]`, from `postprocessMatrices`): linear, so the autodiff
 * carries the loss's gradient back through two MatMuls (`recipe/loss-resolution.ts` does the same on tfjs).
 */
function toOriginal(ops: OnnxGraphOps, masks: OnnxValue, [h, w]: readonly [number, number]): OnnxValue {
  const [b, m, s] = masks.shape as [number, number, number, number];
  const rows = ops.input(TRAIN_INPUTS.lossRows, [h, s]);
  const cols = ops.input(TRAIN_INPUTS.lossCols, [w, s]);
  const xc = ops.reshape(ops.matmul(ops.reshape(masks, [b * m * s, s]), cols, true), [b * m, s, w]); // X · Rxᵀ
  const out = ops.matmul(ops.reshape(rows, [1, h, s]), xc); // Ry · (X · Rxᵀ), Ry broadcast
  return ops.reshape(out, [b, m, h, w]);
}
