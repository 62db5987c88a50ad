/**
 * One training model per micro-batch shape (B prompts, N points): the training forward
 * (`training-graph.ts`), its backward from `buildGradientGraph` (seeded with `loss_scale`, so the
 * gradients are those of `scale * loss`), and the gradient accumulation: for every trainable key
 * `acc_out.<key> = acc_in.<key> + grad.<key>`. Outputs: `parts [4]` and the `acc_out.*` tensors.
 * `recordTrainModel` records it once (its bytes are kept), `loadTrainSession` loads it into ORT,
 * again after a session was released.
 */
import { BoundOrtSession, buildGradientGraph, type BoundSessionOptions } from '@samtune/onnx';
import { isSam2Config, type Sam2Config, type SamConfig, type WeightMap } from '@samtune/sam-model';
import type { SamLossConfig } from '@samtune/losses';
import { recordTrainingForward, trainShapeKey, TRAIN_INPUTS, type TrainGraphShape } from './training-graph.js';
import { recordSam2TrainingForward } from './sam2-training-graph.js';

/** Names of the accumulator inputs and outputs of a key. */
export const accIn = (key: string): string => `acc_in.${key}`;
export const accOut = (key: string): string => `acc_out.${key}`;
/** Output name of the loss parts `[loss, focal, dice, iou]` (SAM 2.1: `, class`). */
export const PARTS_OUTPUT = 'parts';
/** Output names of the logits and IoU predictions of graphs recorded with `outputs` (simulated clicks). */
export const MASKS_OUTPUT = 'masks_out';
export const IOU_OUTPUT = 'iou_out';

/** The recorded training graph of one (B, N). */
export interface TrainModel {
  readonly shape: TrainGraphShape;
  /** The serialized ONNX model. */
  readonly bytes: Uint8Array;
  /** Trainable keys (graph inputs under their own names, and `acc_in.*`/`acc_out.*`). */
  readonly paramKeys: readonly string[];
  /** Keys whose value does not reach the loss (their gradient is 0). */
  readonly unreached: readonly string[];
  /** Seconds spent recording + differentiating. */
  readonly recordSeconds: number;
  /** Node count of the whole graph. */
  readonly nodes: number;
  /** M, the decoder outputs per prompt the loss sees (3 for a single point, else 1). */
  readonly masksPerPrompt: number;
  /** Length of the `parts` output: 4, or 5 for SAM 2.1 (the object-score term). */
  readonly partsCount: number;
  /** SAM 2.1: the graph takes the projected high-res features (`SAM2_HIGH_RES_INPUTS`). */
  readonly highRes: boolean;
}

/** Records and differentiates the training graph of one shape (SAM 1 or SAM 2.1, by the config). */
export function recordTrainModel(
  config: SamConfig | Sam2Config,
  weights: WeightMap,
  shape: TrainGraphShape,
  lossConfig: SamLossConfig,
): TrainModel {
  const t0 = performance.now();
  const sam2 = isSam2Config(config);
  const fwd = sam2
    ? recordSam2TrainingForward(config, weights, shape, lossConfig)
    : recordTrainingForward(config, weights, shape, lossConfig);
  const { ops } = fwd;
  const grads = buildGradientGraph(ops.builder, { loss: fwd.loss.name, wrt: fwd.paramKeys, seed: TRAIN_INPUTS.scale });
  ops.output(PARTS_OUTPUT, fwd.parts);
  if (shape.outputs) {
    ops.output(MASKS_OUTPUT, ops.emit('Identity', [fwd.masks], fwd.masks.shape));
    ops.output(IOU_OUTPUT, ops.emit('Identity', [fwd.iou], fwd.iou.shape));
  }
  for (const key of fwd.paramKeys) {
    const w = weights.get(key);
    const dims = w ? [...w.shape] : [];
    const acc = ops.input(accIn(key), dims);
    const g = grads.gradients.get(key) as string;
    const sum = ops.add(acc, { name: g, shape: dims });
    ops.output(accOut(key), sum);
  }
  // rules leave transposes that the next rule composed away: onnxruntime would still run them
  ops.builder.pruneUnusedNodes();
  return {
    shape,
    bytes: ops.builder.toModelBytes(),
    paramKeys: fwd.paramKeys,
    unreached: grads.unreached,
    recordSeconds: (performance.now() - t0) / 1000,
    nodes: ops.builder.listNodes().length,
    masksPerPrompt: fwd.masks.shape[1] as number,
    partsCount: fwd.parts.shape[0] as number,
    highRes: sam2,
  };
}

/** Loads a recorded training model into an ORT session. */
export function loadTrainSession(model: TrainModel, options: BoundSessionOptions): BoundOrtSession {
  return new BoundOrtSession(model.bytes, {
    ...options,
    label: `training graph ${trainShapeKey(model.shape)}`,
  });
}
