/**
 * `SamPredictor` on tfjs: the official predictor's prompt path (`predictor.py` `predict` /
 * `predict_torch`) for a precomputed image embedding. Prompts are in ORIGINAL image pixels and are
 * moved to the 1024 frame with the official `ResizeLongestSide.apply_coords`.
 *
 * The predictor owns tfjs copies of the prompt-encoder weights (frozen tensors) and of the
 * mask-decoder weights (`tf.Variable`s, trainable by default) so a trainer can optimise them in place
 * (`trainableVariables()`, `decode()` inside `tf.variableGrads`). Call `dispose()` when done.
 */
import * as tf from '@tensorflow/tfjs';
import type { SamConfig } from './config.js';
import { LOW_RES_SIZE, type Box, type Point } from '@samtune/transforms';
import { maskDecoder } from './mask-decoder.js';
import { TfDecoderWeights, hostData, PredictorInputError } from './tf-decoder-weights.js';
import { applyBoxes, applyCoords, postprocessMasks, preprocessShape } from './postprocess.js';
import { densePe, promptEncoder } from './prompt-encoder.js';
import type { FloatTensor, WeightMap } from '@samtune/tensor';
import { floatTensor } from '@samtune/tensor';

export { PredictorInputError } from './tf-decoder-weights.js';

/** XY point and XYXY box in original image pixels (transforms' types). */
export type { Point, Box } from '@samtune/transforms';

/** Prompts of one `predict` call, in ORIGINAL image pixels. */
export interface PredictPrompts {
  readonly points?: readonly Point[];
  /** One label per point: 1 foreground, 0 background. */
  readonly labels?: readonly number[];
  readonly box?: Box;
  /** `[1,256,256]` low-res logits of an earlier prediction (its `lowResMasks` row). */
  readonly maskInput?: FloatTensor;
}

/**
 * The official predictor's checks of `prompts`, shared by both decoder engines.
 * @param fn caller name for messages (`SamPredictor.predict`)
 * @throws PredictorInputError for points and labels of different lengths, or a mask input not `[1,256,256]`
 */
export function checkPredictPrompts(fn: string, prompts: PredictPrompts): void {
  const { points, labels, maskInput } = prompts;
  if ((points === undefined) !== (labels === undefined) || (points && labels && points.length !== labels.length)) {
    throw new PredictorInputError(
      `${fn}(prompts): points and labels must come together with equal lengths, got ${points?.length ?? 'no'} points and ${labels?.length ?? 'no'} labels`,
    );
  }
  if (
    maskInput &&
    (maskInput.shape.length !== 3 ||
      maskInput.shape[0] !== 1 ||
      maskInput.shape[1] !== LOW_RES_SIZE ||
      maskInput.shape[2] !== LOW_RES_SIZE)
  ) {
    throw new PredictorInputError(
      `${fn}(prompts.maskInput): expected [1,${LOW_RES_SIZE},${LOW_RES_SIZE}], got [${maskInput.shape.join(',')}]`,
    );
  }
}

export interface PredictOptions {
  /** Three masks (tokens 1..3) instead of one (token 0). Default true, like the official predictor. */
  readonly multimask?: boolean;
  /** Also compute `masks` at original size (the costlier part). Default true. */
  readonly returnMasks?: boolean;
}

/** Outputs of `predict` (one prompt set): M = 3 with multimask, else 1. */
export interface PredictResult {
  /** `[M,256,256]` low-res logits (feed a row back as `maskInput`). */
  readonly lowResMasks: FloatTensor;
  /** `[M]` predicted IoU. */
  readonly iouPredictions: FloatTensor;
  /** `[M,H,W]` logits at the original size (binary mask: `> maskThreshold`); absent with `returnMasks: false`. */
  readonly masks?: FloatTensor;
}

/** Outputs of `predictBatchBoxes` for B boxes. */
export interface BatchPredictResult {
  /** `[B,M,256,256]`. */
  readonly lowResMasks: FloatTensor;
  /** `[B,M]`. */
  readonly iouPredictions: FloatTensor;
  /** `[B,M,H,W]` logits at the original size. */
  readonly masks?: FloatTensor;
}

/** Prompt tensors for `decode`, in the 1024 frame (already `applyCoords`-transformed). */
export interface TfPrompts {
  /** `[B,N,2]` XY. */
  readonly coords?: tf.Tensor;
  /** `[B,N]` float labels. */
  readonly labels?: tf.Tensor;
  /** `[B,4]` XYXY. */
  readonly boxes?: tf.Tensor;
  /** `[B,1,256,256]` mask logits. */
  readonly masks?: tf.Tensor;
}

export interface SamPredictorOptions {
  readonly config: SamConfig;
  /** Checkpoint weights; only `prompt_encoder.*` and `mask_decoder.*` are used (copied to tfjs). */
  readonly weights: WeightMap;
  /** Create the mask-decoder variables as trainable (default true). */
  readonly trainable?: boolean;
}

export class SamPredictor extends TfDecoderWeights {
  readonly config: SamConfig;

  constructor({ config, weights, trainable = true }: SamPredictorOptions) {
    super(config.promptEncoder, weights, trainable, 'SamPredictor');
    this.config = config;
  }

  /**
   * Prompt encoder + mask decoder on tfjs tensors (1024 frame), for training and batching.
   * Points get the official padding point when no box is given. Not wrapped in `tf.tidy`: call it
   * inside `tf.tidy` / `tf.variableGrads`.
   * @param imageEmbeddings `[1,256,64,64]` (broadcast to all prompts) or `[B,256,64,64]`
   * @returns `masks [B,M,256,256]` logits and `iou [B,M]`
   */
  decode(
    imageEmbeddings: tf.Tensor,
    prompts: TfPrompts,
    multimaskOutput: boolean,
  ): { masks: tf.Tensor; iou: tf.Tensor } {
    this.checkAlive('decode');
    const { sparse, dense } = promptEncoder(this.ops, this.config.promptEncoder, {
      ...prompts,
      padPoints: prompts.boxes === undefined,
    });
    return maskDecoder(this.ops, this.config.maskDecoder, {
      imageEmbeddings,
      imagePe: densePe(this.ops),
      sparse,
      dense,
      multimaskOutput,
    });
  }

  /**
   * Official `SamPredictor.predict(point_coords, point_labels, box, mask_input, multimask_output,
   * return_logits=True)` for one prompt set.
   * @param embedding `[1,256,64,64]` image embedding
   * @param originalSize (H,W) of the original image, the frame of the prompts
   */
  predict(
    embedding: FloatTensor,
    prompts: PredictPrompts,
    originalSize: readonly [number, number],
    opts: PredictOptions = {},
  ): PredictResult {
    this.checkAlive('predict');
    const { points, labels, box, maskInput } = prompts;
    checkPredictPrompts('SamPredictor.predict', prompts);
    const r = this.run(embedding, originalSize, opts, 'predict', () => ({
      coords:
        points && points.length > 0
          ? tf.tensor(applyCoords(points.flat(), originalSize), [1, points.length, 2])
          : undefined,
      labels: labels && labels.length > 0 ? tf.tensor(Float32Array.from(labels), [1, labels.length]) : undefined,
      boxes: box ? tf.tensor(applyBoxes(box, originalSize), [1, 4]) : undefined,
      masks: maskInput ? tf.tensor(maskInput.data, [1, 1, LOW_RES_SIZE, LOW_RES_SIZE]) : undefined,
    }));
    const drop0 = (t: FloatTensor): FloatTensor => floatTensor(t.data, t.shape.slice(1));
    return {
      lowResMasks: drop0(r.lowResMasks),
      iouPredictions: drop0(r.iouPredictions),
      ...(r.masks ? { masks: drop0(r.masks) } : {}),
    };
  }

  /**
   * Several boxes decoded in one batch (official `predict_torch` with `boxes [B,4]`), in original
   * pixels. Returns `[B,M,…]` outputs.
   */
  predictBatchBoxes(
    embedding: FloatTensor,
    boxes: readonly Box[],
    originalSize: readonly [number, number],
    opts: PredictOptions = {},
  ): BatchPredictResult {
    this.checkAlive('predictBatchBoxes');
    if (boxes.length === 0)
      throw new PredictorInputError('SamPredictor.predictBatchBoxes(boxes): expected at least one box, got 0');
    return this.run(embedding, originalSize, opts, 'predictBatchBoxes', () => ({
      boxes: tf.tensor(applyBoxes(boxes.flat(), originalSize), [boxes.length, 4]),
    }));
  }

  private run(
    embedding: FloatTensor,
    originalSize: readonly [number, number],
    opts: PredictOptions,
    fn: string,
    makePrompts: () => TfPrompts,
  ): BatchPredictResult {
    const es = embedding.shape;
    const [h, w] = this.config.promptEncoder.imageEmbeddingSize;
    const c = this.config.promptEncoder.embedDim;
    if (es.length !== 4 || es[0] !== 1 || es[1] !== c || es[2] !== h || es[3] !== w) {
      throw new PredictorInputError(
        `SamPredictor.${fn}(embedding): expected [1,${c},${h},${w}], got [${es.join(',')}]`,
      );
    }
    const inputSize = preprocessShape(originalSize, this.config.imageEncoder.imgSize);
    let result: BatchPredictResult = {
      lowResMasks: floatTensor(new Float32Array(0), [0]),
      iouPredictions: floatTensor(new Float32Array(0), [0]),
    };
    tf.tidy(() => {
      const emb = tf.tensor(embedding.data, [...es], 'float32');
      const { masks: low, iou } = this.decode(emb, makePrompts(), opts.multimask ?? true);
      const full =
        opts.returnMasks === false
          ? undefined
          : postprocessMasks(this.ops, low, inputSize, originalSize, this.config.imageEncoder.imgSize);
      result = {
        lowResMasks: hostData(low),
        iouPredictions: hostData(iou),
        ...(full ? { masks: hostData(full) } : {}),
      };
    });
    return result;
  }
}
