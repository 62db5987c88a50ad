/**
 * The decoder side of a SAM model on tfjs, shared by `SamPredictor` and `Sam2Predictor`: the
 * `prompt_encoder.*` tensors (and the derived dense PE) as constants, the `mask_decoder.*` tensors as
 * `tf.Variable`s (trainable by default) that a trainer optimises in place, and the `TfjsOps` over both.
 */
import * as tf from '@tensorflow/tfjs';
import type { PromptEncoderConfig } from './config.js';
import { MASK_DECODER_PREFIX } from './mask-decoder.js';
import { TfjsOps } from './ops/tfjs-ops.js';
import { PROMPT_ENCODER_PREFIX, preparePromptEncoderWeights } from './prompt-encoder.js';
import type { FloatTensor, HostTensor, WeightMap } from '@samtune/tensor';
import { floatTensor, toFloat32 } from '@samtune/tensor';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown for prompts, embeddings or weights a predictor cannot use; the message names the argument. */
export class PredictorInputError extends SamtuneError {
  readonly code: string = 'predictor-input';
  readonly kind: ErrorKind = 'input';
}

/** A tfjs tensor copied to host memory. */
export function hostData(t: tf.Tensor): FloatTensor {
  return floatTensor(new Float32Array(t.dataSync()), t.shape);
}

/**
 * Base of the tfjs predictors (`SamPredictor`, `Sam2Predictor`): owns the decoder-side tensors.
 */
export class TfDecoderWeights {
  /** The executor over these tensors (for composing the layers directly). */
  readonly ops: TfjsOps;
  private readonly frozen = new Map<string, tf.Tensor>();
  private readonly variables = new Map<string, tf.Variable>();
  private disposed = false;

  /**
   * @param weights checkpoint weights under samtune's names; other keys are ignored
   * @param owner the caller, for messages (`SamPredictor`)
   * @throws PredictorInputError when there is no `mask_decoder.*` tensor
   */
  constructor(
    promptEncoder: PromptEncoderConfig,
    weights: WeightMap,
    trainable: boolean,
    private readonly owner: string,
  ) {
    const derived = preparePromptEncoderWeights(promptEncoder, weights);
    const all = new Map<string, tf.Tensor>();
    const upload = (t: HostTensor): tf.Tensor => tf.tensor(toFloat32(t).data, [...t.shape], 'float32');
    for (const [key, t] of [...weights, ...derived]) {
      if (key.startsWith(PROMPT_ENCODER_PREFIX)) {
        const tt = upload(t);
        this.frozen.set(key, tt);
        all.set(key, tt);
      } else if (key.startsWith(MASK_DECODER_PREFIX)) {
        const init = upload(t);
        const v = tf.variable(init, trainable);
        init.dispose();
        this.variables.set(key, v);
        all.set(key, v);
      }
    }
    if (this.variables.size === 0) {
      this.release();
      throw new PredictorInputError(
        `${owner}(weights): no '${MASK_DECODER_PREFIX}*' tensors in the weight map (${weights.size} keys)`,
      );
    }
    this.ops = new TfjsOps(all);
  }

  /** The mask-decoder tensors by checkpoint key, as the `tf.Variable`s the forward uses. */
  trainableVariables(): ReadonlyMap<string, tf.Variable> {
    return this.variables;
  }

  /** The current mask-decoder weights copied to host memory (`mask_decoder.*`). */
  maskDecoderWeights(): Map<string, FloatTensor> {
    const out = new Map<string, FloatTensor>();
    for (const [key, v] of this.variables) out.set(key, hostData(v));
    return out;
  }

  /** Overwrites mask-decoder variables from `weights` (keys `mask_decoder.*`; same shapes; others ignored). */
  setMaskDecoderWeights(weights: WeightMap): void {
    for (const [key, t] of weights) {
      const v = this.variables.get(key);
      if (!v) continue;
      if (v.shape.length !== t.shape.length || v.shape.some((d, i) => d !== t.shape[i])) {
        throw new PredictorInputError(
          `setMaskDecoderWeights(weights): '${key}' has shape [${t.shape.join(',')}], expected [${v.shape.join(',')}]`,
        );
      }
      tf.tidy(() => v.assign(tf.tensor(toFloat32(t).data, [...t.shape], 'float32')));
    }
  }

  /** Releases every tfjs tensor and variable this object owns. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.release();
  }

  /** @throws PredictorInputError after `dispose()`, naming `owner.fn` */
  protected checkAlive(fn: string): void {
    if (this.disposed) throw new PredictorInputError(`${this.owner}.${fn}(): the predictor was disposed`);
  }

  private release(): void {
    for (const t of this.frozen.values()) t.dispose();
    for (const v of this.variables.values()) v.dispose();
    this.frozen.clear();
    this.variables.clear();
  }
}
