/**
 * `Sam2Predictor` on tfjs: `SAM2ImagePredictor.predict` / `_predict` (image mode, `return_logits=True`)
 * for precomputed image features (the 64x64 embedding with `no_mem_embed` and the two projected
 * high-res levels). Prompts are in ORIGINAL image pixels (`sam2ApplyCoords`: two scales).
 * The decoder-side weights are held like `SamPredictor`'s (`TfDecoderWeights`: the mask decoder as
 * trainable `tf.Variable`s), under samtune's names (`sam2PredictorWeights`). Call `dispose()` when done.
 */
import * as tf from '@tensorflow/tfjs';
import { LOW_RES_SIZE, type Box } from '@samtune/transforms';
import type { FloatTensor, WeightMap } from '@samtune/tensor';
import { densePe } from '../prompt-encoder.js';
import { checkPredictPrompts, type PredictOptions, type PredictPrompts } from '../predictor.js';
import { PredictorInputError, TfDecoderWeights, hostData } from '../tf-decoder-weights.js';
import { SAM2_DECODER_CONFIG, type Sam2DecoderConfig } from './mask-decoder-config.js';
import { sam2PredictMasks, type Sam2MaskDecoderOutputs } from './mask-decoder.js';
import { sam2PromptEncoder, type Sam2PromptInputs } from './prompt-encoder.js';
import { clampLogits, sam2ApplyCoords, sam2OriginalSizeMasks, selectSam2Masks } from './predictor-postprocess.js';

/** The image features a SAM 2.1 decoder call needs (`SAM2ImagePredictor._features`). */
export interface Sam2PredictorFeatures {
  /** `[1,256,64,64]` neck level 2 + `no_mem_embed`. */
  readonly imageEmbedding: FloatTensor;
  /** `[[1,32,256,256], [1,64,128,128]]`: neck levels 0/1 through `conv_s0` / `conv_s1`. */
  readonly highResFeatures: readonly [FloatTensor, FloatTensor];
}

/** Outputs of one call for B prompt sets (B = 1 for `predict`); M = 3 multimask, else 1. */
export interface Sam2PredictResult {
  /** `[B,M,256,256]` low-res logits, clamped to ±32 (feed a row back as `maskInput`). */
  readonly lowResMasks: FloatTensor;
  /** `[B,M]` predicted IoU of the returned masks. */
  readonly iouPredictions: FloatTensor;
  /** `[B,4]` the IoU head's output for all four mask tokens. */
  readonly allIouPredictions: FloatTensor;
  /** `[B,1]` object-score logits (the official predictor computes and discards them). */
  readonly objectScoreLogits: FloatTensor;
  /** Per prompt set, the mask token of each returned mask. */
  readonly tokens: number[][];
  /** `[B,M,H,W]` logits at the original size, from the unclamped logits; absent with `returnMasks: false`. */
  readonly masks?: FloatTensor;
}

export interface Sam2PredictorOptions {
  /** Samtune-named decoder-side weights (`sam2PredictorWeights` of a SAM 2.1 state dict). */
  readonly weights: WeightMap;
  /** Default `SAM2_DECODER_CONFIG` (the published sizes). */
  readonly config?: Sam2DecoderConfig;
  /** Create the mask-decoder variables as trainable (default true). */
  readonly trainable?: boolean;
}

const shapeOk = (t: FloatTensor, want: readonly number[]): boolean =>
  t.shape.length === want.length && t.shape.every((d, i) => d === want[i]);

/**
 * Checks the shapes of `features` for `config`.
 * @param fn caller name for the message (`Sam2Predictor.predict`)
 * @throws PredictorInputError naming the feature, the expected and the found shape
 */
export function checkSam2Features(fn: string, config: Sam2DecoderConfig, features: Sam2PredictorFeatures): void {
  const [eh, ew] = config.promptEncoder.imageEmbeddingSize;
  const c = config.promptEncoder.embedDim;
  for (const [name, t, want] of [
    ['imageEmbedding', features.imageEmbedding, [1, c, eh, ew]],
    ['highResFeatures[0]', features.highResFeatures[0], [1, c / 8, 4 * eh, 4 * ew]],
    ['highResFeatures[1]', features.highResFeatures[1], [1, c / 4, 2 * eh, 2 * ew]],
  ] as const) {
    if (!shapeOk(t, want)) {
      throw new PredictorInputError(
        `${fn}(features.${name}): expected [${want.join(',')}], got [${t.shape.join(',')}]`,
      );
    }
  }
}

export class Sam2Predictor extends TfDecoderWeights {
  readonly config: Sam2DecoderConfig;

  constructor({ weights, config = SAM2_DECODER_CONFIG, trainable = true }: Sam2PredictorOptions) {
    super(config.promptEncoder, weights, trainable, 'Sam2Predictor');
    this.config = config;
  }

  /**
   * Prompt encoder + mask decoder on tfjs tensors (1024 frame): all four tokens, no selection. Not
   * tidied: call inside `tf.tidy` / `tf.variableGrads`.
   * @param embedding `[1,256,64,64]`; `highRes` the projected levels (`[1|B,…]`)
   */
  decodeAll(
    embedding: tf.Tensor,
    highRes: readonly [tf.Tensor, tf.Tensor],
    prompts: Sam2PromptInputs<tf.Tensor>,
  ): Sam2MaskDecoderOutputs<tf.Tensor> & { sparse: tf.Tensor } {
    this.checkAlive('decodeAll');
    const { sparse, dense } = sam2PromptEncoder(this.ops, this.config.promptEncoder, prompts);
    const out = sam2PredictMasks(this.ops, this.config.maskDecoder, {
      imageEmbeddings: embedding,
      imagePe: densePe(this.ops),
      sparse,
      dense,
      highResFeatures: highRes,
    });
    return { ...out, sparse };
  }

  /**
   * Official `SAM2ImagePredictor.predict(point_coords, point_labels, box, mask_input,
   * multimask_output, return_logits=True)` for one prompt set. Returns `[1,…]` outputs.
   * @param originalSize (H,W) of the original image, the frame of the prompts
   */
  predict(
    features: Sam2PredictorFeatures,
    prompts: PredictPrompts,
    originalSize: readonly [number, number],
    opts: PredictOptions = {},
  ): Sam2PredictResult {
    checkPredictPrompts('Sam2Predictor.predict', prompts);
    const { points, labels, box, maskInput } = prompts;
    const n = points?.length ?? 0;
    return this.run(features, originalSize, opts, 'predict', () => ({
      ...(points && labels && n > 0
        ? {
            coords: tf.tensor(sam2ApplyCoords(points.flat(), originalSize), [1, n, 2]),
            labels: tf.tensor(Float32Array.from(labels), [1, n]),
          }
        : {}),
      ...(box ? { boxes: tf.tensor(sam2ApplyCoords(box, originalSize), [1, 4]) } : {}),
      ...(maskInput ? { masks: tf.tensor(maskInput.data, [1, 1, LOW_RES_SIZE, LOW_RES_SIZE]) } : {}),
    }));
  }

  /** Several boxes in one call (`predict(box=Bx4)`), in original pixels. Returns `[B,…]` outputs. */
  predictBatchBoxes(
    features: Sam2PredictorFeatures,
    boxes: readonly Box[],
    originalSize: readonly [number, number],
    opts: PredictOptions = {},
  ): Sam2PredictResult {
    if (boxes.length === 0) {
      throw new PredictorInputError('Sam2Predictor.predictBatchBoxes(boxes): expected at least one box, got 0');
    }
    return this.run(features, originalSize, opts, 'predictBatchBoxes', () => ({
      boxes: tf.tensor(sam2ApplyCoords(boxes.flat(), originalSize), [boxes.length, 4]),
    }));
  }

  private run(
    features: Sam2PredictorFeatures,
    originalSize: readonly [number, number],
    opts: PredictOptions,
    fn: string,
    makePrompts: () => Sam2PromptInputs<tf.Tensor>,
  ): Sam2PredictResult {
    this.checkAlive(fn);
    checkSam2Features(`Sam2Predictor.${fn}`, this.config, features);
    const {
      imageEmbedding: e,
      highResFeatures: [h0, h1],
    } = features;
    let all: { masks: FloatTensor; iou: FloatTensor; objectScore: FloatTensor } | undefined;
    tf.tidy(() => {
      const up = (t: FloatTensor): tf.Tensor => tf.tensor(t.data, [...t.shape], 'float32');
      const out = this.decodeAll(up(e), [up(h0), up(h1)], makePrompts());
      all = { masks: hostData(out.masks), iou: hostData(out.iou), objectScore: hostData(out.objectScore) };
    });
    if (!all) throw new PredictorInputError(`Sam2Predictor.${fn}(): the decoder produced no output`);
    const sel = selectSam2Masks(this.config, all.masks, all.iou, opts.multimask ?? true);
    let masks: FloatTensor | undefined;
    if (opts.returnMasks !== false) {
      tf.tidy(() => {
        const low = tf.tensor(sel.masks.data, [...sel.masks.shape]);
        masks = hostData(sam2OriginalSizeMasks(this.ops, low, originalSize));
      });
    }
    return {
      lowResMasks: clampLogits(sel.masks),
      iouPredictions: sel.iou,
      allIouPredictions: all.iou,
      objectScoreLogits: all.objectScore,
      tokens: sel.tokens,
      ...(masks ? { masks } : {}),
    };
  }
}
