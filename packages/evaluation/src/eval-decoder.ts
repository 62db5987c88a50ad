/**
 * What validation decodes with (`evaluate`'s `decoder`): chunks of prompts of one image to the
 * chosen low-res logits, their predicted IoU and the masks at the original size (the mask-selection
 * rule), and the training loss of those logits, both on ONE executor:
 *
 * - `ortEvalDecoder`: sam-model's `OrtDecoder` (post-processing in its graph) and the loss as an ORT
 *   graph (`OrtSamLoss`);
 * - `tfjsEvalDecoder`: a tfjs `SamPredictor` (the reference) and the loss on `TfjsOps`.
 *
 * Both compute the loss from `@samtune/losses`' one definition (`samLossOn`). The trainer's engines
 * hand out the one of their executor (`TrainEngine.evalDecoder`).
 */
import * as tf from '@tensorflow/tfjs';
import { OrtSamLoss, samLossOn } from '@samtune/losses';
import { TfjsOps } from '@samtune/sam-model/modeling';
import {
  OrtDecoder,
  selectMaskIndex,
  useMultimask,
  type DecodeOptions,
  type DecodeResult,
  type FloatTensor,
  type PredictPrompts,
  type SamConfig,
  type SamPredictor,
  type WeightMap,
} from '@samtune/sam-model';
import { logitsToMask, lowResToOriginal, type ResizeGeometry } from '@samtune/transforms';
import type { DecoderPromptBatch, PromptSpec } from '@samtune/training-data';
import type { Click, ClickPrediction } from './clicks-to-quality.js';

/** One prompt's prediction at the original size `(H,W)`. */
export interface PredictedMask {
  /** 0/1 (logit > 0). */
  readonly binary: Uint8Array;
  /** The logits, only where they were asked for. */
  readonly logits?: Float32Array;
}

/** A chunk's decoded prompts: chosen low-res logits `[B,256,256]`, their IoU `[B]`, masks at `(H,W)`. */
export interface DecodedChunk {
  readonly low: Float32Array;
  readonly scores: Float32Array;
  readonly masks: readonly PredictedMask[];
}

/** An image's features as the embedding cache gives them. */
export interface EvalFeatures {
  /** `[1,256,64,64]`. */
  readonly embedding: FloatTensor;
  /** SAM 2.1 only: `high_res_feats` `[1,32,256,256]`, `[1,64,128,128]`. */
  readonly highResFeats?: readonly [FloatTensor, FloatTensor];
}

/** Decodes validation prompts and scores them with the training loss, on one executor. */
export interface EvalDecoder {
  /**
   * The prompts of `chunk` (as `batch`, its decoder form) on the image of `features`;
   * `withLogits`: keep each mask's logits at the original size.
   */
  decode(
    chunk: readonly PromptSpec[],
    batch: DecoderPromptBatch,
    features: EvalFeatures,
    geometry: ResizeGeometry,
    withLogits: boolean,
  ): Promise<DecodedChunk>;
  /** The training loss (mean over the chunk) of `decoded`'s low-res logits against `targets` `[B,1,256,256]`. */
  loss(decoded: DecodedChunk, targets: Float32Array, size: number): number;
  /**
   * One step of a clicks-to-quality sequence (`evaluateClicks`): `clicks` so far (ORIGINAL pixels)
   * with the previous low-res logits as `mask_input`, `multimask: 'auto'` (one click: the best of
   * three masks; more: the single mask); the chosen mask at the original size `(H,W)` and its
   * `[1,256,256]` logits. Only on executors that decode with a mask input (ORT); absent elsewhere.
   */
  readonly decodeClicks?: (
    features: EvalFeatures,
    originalSize: readonly [number, number],
    clicks: readonly Click[],
    maskInput: FloatTensor | undefined,
  ) => Promise<ClickPrediction>;
  release(): Promise<void>;
}

/**
 * Decodes on onnxruntime from `weights` (the whole model's: `prompt_encoder.*` and `mask_decoder.*`),
 * clicks-to-quality included (`decodeClicks`), all on one `OrtDecoder`.
 */
export function ortEvalDecoder(config: SamConfig, weights: WeightMap): EvalDecoder {
  const ort = new OrtDecoder(config, weights);
  const loss = new OrtSamLoss();
  return {
    decode: (chunk, _batch, features, geometry, withLogits) =>
      decodeOnOrt(ort, chunk, features.embedding, geometry.originalSize, withLogits),
    loss: (decoded, targets, size) => loss.loss(decoded.low, decoded.scores, targets, size),
    decodeClicks: (features, originalSize, clicks, maskInput) =>
      clicksOnOrt(ort, features.embedding, originalSize, clicks, maskInput),
    async release() {
      loss.dispose();
      await ort.release();
    },
  };
}

/** The executor of the tfjs loss: plain tfjs ops, no weights. */
const TFJS = new TfjsOps(new Map());

/** Decodes on `predictor` (its current weights; the predictor stays the caller's). */
export function tfjsEvalDecoder(predictor: SamPredictor): EvalDecoder {
  let last: { readonly of: FloatTensor; readonly tensor: tf.Tensor } | undefined;
  const embeddingTensor = (e: FloatTensor): tf.Tensor => {
    if (last?.of !== e) {
      last?.tensor.dispose();
      last = { of: e, tensor: tf.tensor(e.data, [...e.shape]) };
    }
    return last.tensor;
  };
  return {
    decode: async (_chunk, batch, features, geometry) =>
      decodeOnTfjs(predictor, embeddingTensor(features.embedding), batch, geometry),
    // Only the low-res planes enter the tidy, and a number leaves it: nothing at the original size is
    // ever handed to tfjs (its tidy walks every element of what it returns).
    loss: (decoded, targets, size) =>
      tf.tidy(
        () =>
          samLossOn(
            TFJS,
            tf.tensor(decoded.low, [size, 1, 256, 256]),
            tf.tensor(decoded.scores, [size, 1]),
            tf.tensor(targets, [size, 1, 256, 256]),
          ).loss.dataSync()[0] as number,
      ),
    async release() {
      last?.tensor.dispose();
      last = undefined;
    },
  };
}
/** The chunk on the tfjs predictor (the reference path), with the mask-selection rule. */
function decodeOnTfjs(
  predictor: SamPredictor,
  emb: tf.Tensor,
  batch: DecoderPromptBatch,
  geometry: ResizeGeometry,
): DecodedChunk {
  const multimask = useMultimask({ hasBox: batch.boxes !== undefined, numPoints: batch.numPoints });
  const [chosen, chosenIou] = tf.tidy(() => {
    const { masks, iou: pred } = predictor.decode(
      emb,
      batch.boxes
        ? { boxes: tf.tensor(batch.boxes, [batch.size, 4]) }
        : {
            coords: tf.tensor(batch.coords as Float32Array, [batch.size, batch.numPoints, 2]),
            labels: tf.tensor(batch.labels as Float32Array, [batch.size, batch.numPoints]),
          },
      multimask,
    );
    const m = masks.shape[1] as number;
    const iouHost = pred.dataSync();
    const pick = Array.from(
      { length: batch.size },
      (_, b) => b * m + selectMaskIndex(iouHost.subarray(b * m, (b + 1) * m)),
    );
    const flat = tf.reshape(masks, [batch.size * m, 256, 256]);
    return [tf.gather(flat, pick), tf.gather(tf.reshape(pred, [-1]), pick)] as const;
  });
  const low = chosen.dataSync() as Float32Array;
  const scores = chosenIou.dataSync() as Float32Array;
  tf.dispose([chosen, chosenIou]);
  const masks = Array.from({ length: batch.size }, (_, k) => {
    const logits = lowResToOriginal(low.subarray(k * 65536, (k + 1) * 65536), geometry);
    const [H, W] = geometry.originalSize;
    return { binary: logitsToMask(logits, W, H).data, logits };
  });
  return { low, scores, masks };
}

/**
 * The chunk's prompts on an ORT engine (`OrtDecoder`, or SAM 2.1's `Sam2OrtDecoder` with its features), one call each, with the mask-selection rule (`'auto'`). The
 * masks at the original size come from the post-processing graph already thresholded (`binary`), or
 * as logits when `withLogits` (then thresholded here).
 */
export async function decodeOnOrt<E>(
  ort: {
    predict(e: E, prompts: PredictPrompts, size: readonly [number, number], opts: DecodeOptions): Promise<DecodeResult>;
  },
  chunk: readonly {
    readonly box?: readonly [number, number, number, number];
    readonly points?: readonly (readonly [number, number])[];
  }[],
  embedding: E,
  originalSize: readonly [number, number],
  withLogits: boolean,
): Promise<DecodedChunk> {
  const low = new Float32Array(chunk.length * 65536);
  const scores = new Float32Array(chunk.length);
  const masks: PredictedMask[] = [];
  for (const [k, p] of chunk.entries()) {
    const prompts = p.box ? { box: p.box } : { points: p.points ?? [], labels: (p.points ?? []).map(() => 1) };
    const r = await ort.predict(embedding, prompts, originalSize, {
      multimask: 'auto',
      maskOutput: withLogits ? 'logits' : 'binary',
    });
    low.set(r.lowResMasks.data, k * 65536);
    scores[k] = r.iouPredictions.data[0] as number;
    if (withLogits) {
      const logits = (r.masks as { data: Float32Array }).data;
      masks.push({ binary: logitsToMask(logits, originalSize[1], originalSize[0]).data, logits });
    } else masks.push({ binary: (r.binaryMasks as { data: Uint8Array }).data });
  }
  return { low, scores, masks };
}

/**
 * `EvalDecoder.decodeClicks` on an ORT engine (`OrtDecoder`, or SAM 2.1's `Sam2OrtDecoder` with its
 * features): the clicks (ORIGINAL pixels) with `maskInput` (the previous low-res logits), `'auto'`.
 */
export async function clicksOnOrt<E>(
  ort: {
    predict(e: E, prompts: PredictPrompts, size: readonly [number, number], opts: DecodeOptions): Promise<DecodeResult>;
  },
  embedding: E,
  originalSize: readonly [number, number],
  clicks: readonly Click[],
  maskInput: FloatTensor | undefined,
): Promise<ClickPrediction> {
  const r = await ort.predict(
    embedding,
    { points: clicks.map((c) => c.point), labels: clicks.map((c) => c.label), ...(maskInput ? { maskInput } : {}) },
    originalSize,
    { multimask: 'auto', maskOutput: 'binary' },
  );
  return { mask: (r.binaryMasks as { data: Uint8Array }).data, lowRes: r.lowResMasks };
}
