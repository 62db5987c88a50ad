/**
 * One ORT session per micro-batch shape (B prompts, N points): the training forward
 * (`training-graph.ts`), its backward from `buildGradientGraph` (seeded with `loss_scale`, so the
 * gradients are those of `scale * loss`), and the gradient accumulation: for every trainable key
 * `acc_out.<key> = acc_in.<key> + grad.<key>`. Outputs: `parts [4]` and the `acc_out.*` tensors.
 */
import { BoundOrtSession, buildGradientGraph, type BoundSessionOptions } from '@samtune/onnx';
import type { SamConfig, WeightMap } from '@samtune/sam-model';
import type { SamLossConfig } from '@samtune/losses';
import { recordTrainingForward, TRAIN_INPUTS, type TrainGraphShape } from './training-graph.js';

/** Names of the accumulator inputs and outputs of a key. */
export const accIn = (key: string): string => `acc_in.${key}`;
export const accOut = (key: string): string => `acc_out.${key}`;
/** Output name of the loss parts `[loss, focal, dice, iou]`. */
export const PARTS_OUTPUT = 'parts';

/** A compiled training graph for one (B, N). */
export interface TrainSession {
  readonly shape: TrainGraphShape;
  readonly session: BoundOrtSession;
  /** Trainable keys (graph inputs under their own names, and `acc_in.*`/`acc_out.*`). */
  readonly paramKeys: readonly string[];
  /** Keys whose value does not reach the loss (their gradient is 0). */
  readonly unreached: readonly string[];
  /** Seconds spent recording + differentiating, and loading into ORT. */
  readonly buildSeconds: { readonly record: number; readonly load: number };
  /** Node count of the whole graph. */
  readonly nodes: number;
}

/** Records, differentiates and loads the training graph of one shape. */
export function buildTrainSession(
  config: SamConfig,
  weights: WeightMap,
  shape: TrainGraphShape,
  lossConfig: SamLossConfig,
  options: BoundSessionOptions,
): TrainSession {
  const t0 = performance.now();
  const fwd = recordTrainingForward(config, weights, shape, lossConfig);
  const { ops } = fwd;
  const grads = buildGradientGraph(ops.builder, { loss: fwd.loss.name, wrt: fwd.paramKeys, seed: TRAIN_INPUTS.scale });
  ops.output(PARTS_OUTPUT, fwd.parts);
  for (const key of fwd.paramKeys) {
    const w = weights.get(key);
    const dims = w ? [...w.shape] : [];
    const acc = ops.input(accIn(key), dims);
    const g = grads.gradients.get(key) as string;
    const sum = ops.add(acc, { name: g, shape: dims });
    ops.output(accOut(key), sum);
  }
  const bytes = ops.builder.toModelBytes();
  const t1 = performance.now();
  const session = new BoundOrtSession(bytes, {
    ...options,
    label: `training graph B=${shape.batch} N=${shape.numPoints}`,
  });
  const t2 = performance.now();
  return {
    shape,
    session,
    paramKeys: fwd.paramKeys,
    unreached: grads.unreached,
    buildSeconds: { record: (t1 - t0) / 1000, load: (t2 - t1) / 1000 },
    nodes: ops.builder.listNodes().length,
  };
}
