/**
 * SAM 2.1's decoder training graph for onnxruntime: `sam2DecoderLoss` recorded by `OnnxGraphOps`
 * (the `mask_decoder.*` tensors as graph inputs, the prompt encoder's frozen initializers), then its
 * backward by the ONNX autodiff (`buildGradientGraph`, seeded by `loss_scale`): outputs
 * `parts [5]` = `[loss, focal, dice, iou, class]`, `masks`, `iou`, `object_score`, `sparse` and
 * `grad.<key>` for every `mask_decoder.*` key. `highRes` builds the projected high-res features from
 * graph inputs (`sam2ProjectHighRes` of raw levels, or other forms), so the graph differentiates
 * whatever of `conv_s0`/`conv_s1` it uses.
 */
import { OnnxGraphBuilder, OnnxGraphOps, buildGradientGraph } from '@samtune/onnx';
import { toFloat32 } from '@samtune/tensor';
import type { OnnxValue } from '@samtune/onnx';
import type { HostTensor, WeightMap } from '@samtune/tensor';
import type { Sam2LossConfig } from '@samtune/losses';
import {
  MASK_DECODER_PREFIX,
  PROMPT_ENCODER_PREFIX,
  preparePromptEncoderWeights,
  useMultimask,
  type Sam2DecoderConfig,
} from '@samtune/sam-model';
import { sam2DecoderLoss, type Sam2TrainForward } from '../sam2-decoder-loss.js';
import { TRAIN_INPUTS, type TrainGraphShape, type TrainingForward } from './training-graph.js';

/** The fixed shape of a SAM 2 training graph. */
export interface Sam2TrainGraphShape {
  /** B prompts, each a box (`[B,4]`, input `boxes`) and/or N clicks (`point_coords`, `point_labels`). */
  readonly batch: number;
  readonly numPoints: number;
  readonly box: boolean;
  readonly multimask: boolean;
}

/** A recorded, differentiated SAM 2 training graph. */
export interface Sam2TrainGraph {
  readonly bytes: Uint8Array;
  /** `mask_decoder.*` keys fed as inputs, each with a `grad.<key>` output. */
  readonly paramKeys: readonly string[];
  /** Keys whose value does not reach the loss (zero gradient). */
  readonly unreached: readonly string[];
}

/** Output name of `[loss, focal, dice, iou, class]`. */
export const SAM2_PARTS_OUTPUT = 'parts';

/** A recorded SAM 2 forward + loss (before differentiation), and the `mask_decoder.*` graph inputs. */
interface Sam2Forward {
  readonly ops: OnnxGraphOps;
  readonly r: Sam2TrainForward<OnnxValue>;
  /** `[5]` `[loss, focal, dice, iou, class]`. */
  readonly parts: OnnxValue;
  readonly paramKeys: readonly string[];
}

/**
 * Records `sam2DecoderLoss` for one micro-batch shape (inputs `image_embeddings`, `boxes`,
 * `point_coords` / `point_labels`, `targets`, `loss_scale`, and whatever `highRes` declares).
 */
function recordSam2Forward(
  config: Sam2DecoderConfig,
  weights: ReadonlyMap<string, HostTensor>,
  shape: Sam2TrainGraphShape,
  highRes: (ops: OnnxGraphOps) => readonly [OnnxValue, OnnxValue],
  lossConfig: Sam2LossConfig,
): Sam2Forward {
  const used = new Map<string, HostTensor>();
  for (const [k, v] of weights) {
    if (k.startsWith(PROMPT_ENCODER_PREFIX)) used.set(k, toFloat32(v));
    else if (k.startsWith(MASK_DECODER_PREFIX)) used.set(k, v);
  }
  for (const [k, v] of preparePromptEncoderWeights(config.promptEncoder, new Map(weights))) used.set(k, v);
  const ops = new OnnxGraphOps(used, new OnnxGraphBuilder({ name: 'samtune_sam2_train' }), {
    paramsAsInputs: (k) => k.startsWith(MASK_DECODER_PREFIX),
  });
  const { batch: b, numPoints: n } = shape;
  const pe = config.promptEncoder;
  const [eh, ew] = pe.imageEmbeddingSize;
  const embedding = ops.input(TRAIN_INPUTS.embedding, [1, pe.embedDim, eh, ew]);
  const highResFeatures = highRes(ops);
  const boxes = shape.box ? ops.input(TRAIN_INPUTS.boxes, [b, 4]) : undefined;
  const coords = n > 0 ? ops.input(TRAIN_INPUTS.coords, [b, n, 2]) : undefined;
  const labels = n > 0 ? ops.input(TRAIN_INPUTS.labels, [b, n]) : undefined;
  const targets = ops.input(TRAIN_INPUTS.targets, [b, 1, 4 * eh, 4 * ew]);
  ops.input(TRAIN_INPUTS.scale, [1]);
  const r = sam2DecoderLoss(
    ops,
    config,
    { embedding, highResFeatures, boxes, coords, labels, targets, multimask: shape.multimask },
    lossConfig,
  );
  const parts = ops.concat(
    [r.loss, r.focal, r.dice, r.iou, r.class].map((v) => ops.reshape(v, [1])),
    0,
  );
  const paramKeys = ops.builder
    .listInputs()
    .map((i) => i.name)
    .filter((k) => k.startsWith(MASK_DECODER_PREFIX));
  return { ops, r, parts, paramKeys };
}

/**
 * Records the graph.
 * @param weights samtune-named decoder-side weights (`sam2PredictorWeights`)
 * @param highRes declares its own inputs on `ops` and returns `[feat_s0, feat_s1]`
 */
export function recordSam2TrainGraph(
  config: Sam2DecoderConfig,
  weights: ReadonlyMap<string, HostTensor>,
  shape: Sam2TrainGraphShape,
  highRes: (ops: OnnxGraphOps) => readonly [OnnxValue, OnnxValue],
  lossConfig: Sam2LossConfig = {},
): Sam2TrainGraph {
  const { ops, r, parts, paramKeys } = recordSam2Forward(config, weights, shape, highRes, lossConfig);
  ops.output(SAM2_PARTS_OUTPUT, parts);
  ops.output('masks', r.masks);
  ops.output('iou', r.iouPredictions);
  ops.output('object_score', r.objectScore);
  ops.output('sparse', r.sparse);
  const grads = buildGradientGraph(ops.builder, {
    loss: r.loss.name,
    wrt: paramKeys,
    seed: TRAIN_INPUTS.scale,
    addOutputs: true,
  });
  return { bytes: ops.builder.toModelBytes(), paramKeys, unreached: grads.unreached };
}

/** Graph inputs of the projected high-res features in the engine's graphs (`[1,32,256,256]`, `[1,64,128,128]`). */
export const SAM2_HIGH_RES_INPUTS = ['high_res_feats_0', 'high_res_feats_1'] as const;

/**
 * The `ort` engine's SAM 2 training forward (`train-session.ts` adds the backward and the gradient
 * accumulation): the cached, projected `high_res_feats` are graph inputs, so `conv_s0`/`conv_s1`
 * stay frozen with the image encoder (their outputs are what the embedding cache holds).
 * Simulated clicks and the original-size loss (`maskInput`, `lossSize`) are SAM 1 only.
 */
export function recordSam2TrainingForward(
  config: Sam2DecoderConfig,
  weights: WeightMap,
  shape: TrainGraphShape,
  lossConfig: Sam2LossConfig = {},
): TrainingForward {
  const box = shape.box ?? shape.numPoints === 0;
  const multimask = useMultimask({ hasBox: box, numPoints: shape.numPoints });
  const s0 = [1, config.maskDecoder.transformerDim / 8, 256, 256];
  const s1 = [1, config.maskDecoder.transformerDim / 4, 128, 128];
  const f = recordSam2Forward(
    config,
    weights,
    { batch: shape.batch, numPoints: shape.numPoints, box, multimask },
    (ops) => [ops.input(SAM2_HIGH_RES_INPUTS[0], s0), ops.input(SAM2_HIGH_RES_INPUTS[1], s1)],
    lossConfig,
  );
  return {
    ops: f.ops,
    shape,
    multimask,
    paramKeys: f.paramKeys,
    loss: f.r.loss,
    parts: f.parts,
    masks: f.r.masks,
    iou: f.r.iouPredictions,
  };
}
