/**
 * SAM 2.1's decoder training graph for onnxruntime: `sam2DecoderLoss` recorded by `OnnxGraphOps`
 * (the `mask_decoder.*` tensors as graph inputs, the prompt encoder's frozen initializers), then its
 * backward by the ONNX autodiff (`buildGradientGraph`, seeded by `loss_scale`): outputs
 * `parts [5]` = `[loss, focal, dice, iou, class]`, `masks`, `iou`, `object_score`, `sparse` and
 * `grad.<key>` for every `mask_decoder.*` key. `highRes` builds the projected high-res features from
 * graph inputs (`sam2ProjectHighRes` of raw levels, or other forms), so the graph differentiates
 * whatever of `conv_s0`/`conv_s1` it uses.
 */
import { OnnxGraphBuilder, OnnxGraphOps, buildGradientGraph, toFloat32 } from '@samtune/onnx';
import type { HostTensor, OnnxValue } from '@samtune/onnx';
import type { Sam2LossConfig } from '@samtune/losses';
import {
  MASK_DECODER_PREFIX,
  PROMPT_ENCODER_PREFIX,
  preparePromptEncoderWeights,
  type Sam2DecoderConfig,
} from '@samtune/sam-model';
import { sam2DecoderLoss } from '../sam2-decoder-loss.js';

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
  const embedding = ops.input('image_embeddings', [1, pe.embedDim, eh, ew]);
  const highResFeatures = highRes(ops);
  const boxes = shape.box ? ops.input('boxes', [b, 4]) : undefined;
  const coords = n > 0 ? ops.input('point_coords', [b, n, 2]) : undefined;
  const labels = n > 0 ? ops.input('point_labels', [b, n]) : undefined;
  const targets = ops.input('targets', [b, 1, 4 * eh, 4 * ew]);
  ops.input('loss_scale', [1]);
  const r = sam2DecoderLoss(
    ops,
    config,
    { embedding, highResFeatures, boxes, coords, labels, targets, multimask: shape.multimask },
    lossConfig,
  );
  ops.output(
    SAM2_PARTS_OUTPUT,
    ops.concat(
      [r.loss, r.focal, r.dice, r.iou, r.class].map((v) => ops.reshape(v, [1])),
      0,
    ),
  );
  ops.output('masks', r.masks);
  ops.output('iou', r.iouPredictions);
  ops.output('object_score', r.objectScore);
  ops.output('sparse', r.sparse);
  const paramKeys = ops.builder
    .listInputs()
    .map((i) => i.name)
    .filter((k) => k.startsWith(MASK_DECODER_PREFIX));
  const grads = buildGradientGraph(ops.builder, {
    loss: r.loss.name,
    wrt: paramKeys,
    seed: 'loss_scale',
    addOutputs: true,
  });
  return { bytes: ops.builder.toModelBytes(), paramKeys, unreached: grads.unreached };
}
