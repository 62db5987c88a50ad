/**
 * SAM 2.1's decoder training step on tfjs: `sam2DecoderLoss` evaluated by `TfjsOps` under
 * `tf.variableGrads`, the decoder-side weights (`prompt_encoder.*` frozen, `mask_decoder.*`
 * variables) owned by a `Sam2TfjsDecoder`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Sam2LossConfig } from '@samtune/losses';
import type { FloatTensor, HostTensor } from '@samtune/onnx';
import { toFloat32 } from '@samtune/onnx';
import {
  MASK_DECODER_PREFIX,
  PROMPT_ENCODER_PREFIX,
  preparePromptEncoderWeights,
  type Sam2DecoderConfig,
} from '@samtune/sam-model';
import { TfjsOps } from '@samtune/sam-model/modeling';
import { sam2DecoderLoss, type Sam2TrainInputs } from './sam2-decoder-loss.js';
import { TrainStepError } from './engine/types.js';

/** Host loss parts of a step (means over the micro-batch). */
export interface Sam2LossParts {
  readonly loss: number;
  readonly focal: number;
  readonly dice: number;
  readonly iou: number;
  readonly class: number;
}

/** The decoder side of a SAM 2.1 model on tfjs, its `mask_decoder.*` tensors as variables. */
export class Sam2TfjsDecoder {
  readonly ops: TfjsOps;
  readonly variables = new Map<string, tf.Variable>();
  private readonly frozen: tf.Tensor[] = [];

  /** @param weights samtune-named decoder-side weights (`sam2PredictorWeights`) */
  constructor(
    readonly config: Sam2DecoderConfig,
    weights: ReadonlyMap<string, HostTensor>,
  ) {
    const all = new Map<string, tf.Tensor>();
    const derived = preparePromptEncoderWeights(config.promptEncoder, new Map(weights));
    for (const [key, t] of [...weights, ...derived]) {
      const v = tf.tensor(toFloat32(t).data, [...t.shape], 'float32');
      if (key.startsWith(MASK_DECODER_PREFIX)) {
        const variable = tf.variable(v, true);
        v.dispose();
        this.variables.set(key, variable);
        all.set(key, variable);
      } else if (key.startsWith(PROMPT_ENCODER_PREFIX)) {
        this.frozen.push(v);
        all.set(key, v);
      } else v.dispose();
    }
    if (this.variables.size === 0) {
      throw new TrainStepError(
        `new Sam2TfjsDecoder(weights): no '${MASK_DECODER_PREFIX}*' tensors among ${weights.size} keys`,
      );
    }
    this.ops = new TfjsOps(all);
  }

  /**
   * Forward + loss + backward of one micro-batch.
   * @param makeInputs builds the step's input tensors (called inside `tf.variableGrads`; they are freed after)
   * @returns gradients of `scale * loss` by checkpoint key (the caller disposes them) and the unscaled parts
   */
  gradients(
    makeInputs: (ops: TfjsOps) => Sam2TrainInputs<tf.Tensor>,
    scale = 1,
    lossConfig: Sam2LossConfig = {},
  ): { grads: Map<string, tf.Tensor>; parts: Sam2LossParts } {
    const keyOf = new Map([...this.variables].map(([k, v]) => [v.name, k]));
    let parts: Sam2LossParts | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const r = sam2DecoderLoss(this.ops, this.config, makeInputs(this.ops), lossConfig);
      const [loss, focal, dice, iou, cls] = [r.loss, r.focal, r.dice, r.iou, r.class].map(
        (s) => s.dataSync()[0] as number,
      ) as [number, number, number, number, number];
      parts = { loss, focal, dice, iou, class: cls };
      return (scale === 1 ? r.loss : tf.mul(r.loss, scale)) as tf.Scalar;
    }, [...this.variables.values()]);
    value.dispose();
    const out = new Map<string, tf.Tensor>();
    for (const [name, g] of Object.entries(grads)) out.set(keyOf.get(name) ?? name, g);
    if (!parts) throw new TrainStepError('Sam2TfjsDecoder.gradients(): the loss was not evaluated');
    return { grads: out, parts };
  }

  /** The current `mask_decoder.*` weights on the host. */
  weights(): Map<string, FloatTensor> {
    const out = new Map<string, FloatTensor>();
    for (const [k, v] of this.variables) {
      out.set(k, { dtype: 'float32', shape: [...v.shape], data: new Float32Array(v.dataSync()) });
    }
    return out;
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    for (const t of this.frozen) t.dispose();
    this.variables.clear();
    this.frozen.length = 0;
  }
}
