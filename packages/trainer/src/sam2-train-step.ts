/**
 * SAM 2.1's decoder training step on tfjs: `sam2DecoderLoss` evaluated by a `Sam2Predictor`'s
 * `TfjsOps` under `tf.variableGrads` (its `mask_decoder.*` variables get the gradients).
 */
import type * as tf from '@tensorflow/tfjs';
import type { Sam2LossConfig } from '@samtune/losses';
import type { Sam2Predictor } from '@samtune/sam-model';
import type { TfjsOps } from '@samtune/sam-model/modeling';
import { sam2DecoderLoss, type Sam2TrainForward, type Sam2TrainInputs } from './sam2-decoder-loss.js';
import { variableGradsByKey } from './train-step.js';

/** Host loss parts of a step (means over the micro-batch). */
export interface Sam2LossParts {
  readonly loss: number;
  readonly focal: number;
  readonly dice: number;
  readonly iou: number;
  readonly class: number;
}

/**
 * Forward + loss + backward of one micro-batch on `predictor`'s variables.
 * @param makeInputs builds the step's input tensors on `predictor.ops` (called inside `tf.variableGrads`)
 * @param scale the loss is multiplied by it before differentiation (`B_micro / B_batch`)
 * @param observe sees the forward's tensors (decoder outputs, loss parts) before they are freed
 * @returns gradients of `scale * loss` by key (`mask_decoder.*`; the caller disposes them) and the unscaled parts
 */
export function sam2MicroBatchGradients(
  predictor: Sam2Predictor,
  makeInputs: (ops: TfjsOps) => Sam2TrainInputs<tf.Tensor>,
  scale = 1,
  lossConfig: Sam2LossConfig = {},
  observe?: (forward: Sam2TrainForward<tf.Tensor>) => void,
): { grads: Map<string, tf.Tensor>; parts: Sam2LossParts } {
  return variableGradsByKey(
    predictor.trainableVariables(),
    () => {
      const r = sam2DecoderLoss(predictor.ops, predictor.config, makeInputs(predictor.ops), lossConfig);
      observe?.(r);
      return r;
    },
    ['loss', 'focal', 'dice', 'iou', 'class'],
    scale,
    'sam2MicroBatchGradients',
  );
}
