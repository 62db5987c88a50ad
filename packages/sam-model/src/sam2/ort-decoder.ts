/**
 * `Sam2OrtDecoder`: SAM 2.1's prompt encoder + mask decoder + mask post-processing on
 * onnxruntime-node for precomputed image features, with `SAM2ImagePredictor.predict`'s rules (image
 * mode, `return_logits=True`), the ORT counterpart of the tfjs `Sam2Predictor`:
 * - the decoder is the graph recorded from the one `Ops<T>` decoder (`recordSam2EngineGraph`), one
 *   session without and one with a mask input, built lazily from the weights and kept
 *   (`updateWeights` drops them);
 * - token selection on the host (`selectSam2Masks`: multimask -> tokens 1..3; single mask -> token 0
 *   unless unstable), the returned low-res logits clamped to ±32;
 * - the original-size outputs from the UNCLAMPED logits by the weight-free
 *   `recordSam2PostprocessGraph` (logits, uint8 masks or COCO RLE, as SAM 1's `OrtDecoder`).
 * Prompts are in ORIGINAL pixels (`sam2ApplyCoords`: two scales; box corners before the clicks).
 */
import type { Session } from '@samtune/onnx';
import { LazySessions } from '../engines/ort-decoder/lazy-sessions.js';
import { floatTensor, type FloatTensor, type HostTensor, type WeightMap } from '@samtune/tensor';
import { LOW_RES_SIZE } from '../config.js';
import { selectMaskIndex, useMultimask } from '../mask-selection.js';
import { PredictorInputError, checkPredictPrompts, type Box, type PredictPrompts } from '../predictor.js';
import {
  engineSessionOptions,
  maskOutputOf,
  postprocessOutputs,
  singlePromptOutputs,
  type BatchDecodeResult,
  type DecodeOptions,
  type DecodeResult,
  type OrtDecoderOptions,
} from '../engines/ort-decoder/ort-decoder.js';
import type { MaskOutputKind } from '../engines/ort-decoder/postprocess-graph.js';
import { recordSam2EngineGraph } from './decoder-graph.js';
import { SAM2_DECODER_CONFIG, type Sam2DecoderConfig } from './mask-decoder-config.js';
import { recordSam2PostprocessGraph } from './postprocess-graph.js';
import { checkSam2Features, type Sam2PredictorFeatures } from './predictor.js';
import { clampLogits, sam2ApplyCoords, selectSam2Masks } from './predictor-postprocess.js';

/** The decoder config plus the threshold of binary / RLE masks (`Sam2Config` has both). */
export type Sam2OrtDecoderConfig = Sam2DecoderConfig & { readonly maskThreshold?: number };

/** What SAM 2.1 adds to a prediction's result. */
export interface Sam2Extras {
  /** `[4]` (`[B,4]` batched) the IoU head's output for all four mask tokens. */
  readonly allIouPredictions: FloatTensor;
  /** `[1]` (`[B,1]` batched) object-score logits (the official predictor computes and discards them). */
  readonly objectScoreLogits: FloatTensor;
}

/** `DecodeResult` (M masks, low-res logits clamped to ±32) plus SAM 2.1's extras. */
export interface Sam2DecodeResult extends DecodeResult, Sam2Extras {
  /** The mask token of each returned mask. */
  readonly tokens: number[];
}

/** `BatchDecodeResult` plus SAM 2.1's extras. */
export interface Sam2BatchDecodeResult extends BatchDecodeResult, Sam2Extras {
  /** Per box, the mask token of each returned mask. */
  readonly tokens: number[][];
}

/** All four tokens of one prompt set: `masks [1,4,256,256]` unclamped, `iou [1,4]`, `objectScore [1,1]`. */
interface AllTokens {
  readonly masks: FloatTensor;
  readonly iou: FloatTensor;
  readonly objectScore: FloatTensor;
}

const PLANE = LOW_RES_SIZE * LOW_RES_SIZE;

/**
 * The SAM 2.1 decoder graph's point inputs (`sam2DecoderGraph`) for prompts in ORIGINAL pixels: box
 * corners (labels 2, 3) BEFORE the clicks, all in the 1024 frame (`sam2ApplyCoords`); the padding
 * point is appended inside the graph. `point_coords [1,N,2]`, `point_labels [1,N]`.
 * @param fn caller name for messages
 * @throws PredictorInputError for bad prompts (`checkPredictPrompts`) or neither points nor a box
 */
export function sam2PointFeeds(
  fn: string,
  prompts: PredictPrompts,
  originalSize: readonly [number, number],
): { point_coords: FloatTensor; point_labels: FloatTensor } {
  checkPredictPrompts(fn, prompts);
  const { points, labels, box } = prompts;
  const np = points?.length ?? 0;
  if (np === 0 && !box) {
    throw new PredictorInputError(`${fn}(prompts): expected points or a box, got neither`);
  }
  const nb = box ? 2 : 0;
  const coords = new Float32Array(2 * (nb + np));
  const labs = new Float32Array(nb + np);
  if (box) {
    coords.set(sam2ApplyCoords(box, originalSize));
    labs.set([2, 3]);
  }
  if (points && labels && np > 0) {
    coords.set(sam2ApplyCoords(points.flat(), originalSize), 2 * nb);
    labs.set(labels, nb);
  }
  return { point_coords: floatTensor(coords, [1, nb + np, 2]), point_labels: floatTensor(labs, [1, nb + np]) };
}

export class Sam2OrtDecoder {
  private readonly decoders: LazySessions<'plain' | 'mask'>;
  private readonly posts: LazySessions<MaskOutputKind>;

  /**
   * @param weights samtune-named decoder-side weights (`sam2PredictorWeights` of a SAM 2.1 state
   *   dict; a training state's `mask_decoder.*` may override them), read when a session is built
   * @param options execution provider and threads (`imageSideCacheSize` / `splitDecoder` do not apply)
   */
  constructor(
    private weights: WeightMap,
    readonly config: Sam2OrtDecoderConfig = SAM2_DECODER_CONFIG,
    readonly options: OrtDecoderOptions = {},
  ) {
    const sessionOptions = engineSessionOptions(options);
    this.decoders = new LazySessions(sessionOptions, 'Sam2OrtDecoder');
    this.posts = new LazySessions(sessionOptions, 'Sam2OrtDecoder');
  }

  /** Uses `weights` from now on: the decoder sessions are released and rebuilt on the next call. */
  async updateWeights(weights: WeightMap): Promise<void> {
    this.weights = weights;
    await this.decoders.clear();
  }

  /** Builds the sessions a call with these options needs now (else they are built on first use). */
  async warmUp(opts: DecodeOptions & { readonly maskInput?: boolean } = {}): Promise<void> {
    await this.decoder(opts.maskInput ? 'mask' : 'plain');
    const kind = maskOutputOf(opts);
    if (kind !== 'none') await this.post(kind);
  }

  private decoder(key: 'plain' | 'mask'): Promise<Session> {
    const record = () => recordSam2EngineGraph(this.weights, this.config, { maskInput: key === 'mask' });
    return this.decoders.get(key, record, 'decoder');
  }

  private post(kind: MaskOutputKind): Promise<Session> {
    return this.posts.get(kind, () => recordSam2PostprocessGraph(this.config.maskThreshold ?? 0, kind), 'post');
  }

  /** The decoder on one prompt set (ORIGINAL pixels): all four tokens. */
  private async decodeAll(
    fn: string,
    features: Sam2PredictorFeatures,
    prompts: PredictPrompts,
    originalSize: readonly [number, number],
  ): Promise<AllTokens> {
    checkSam2Features(fn, this.config, features);
    const { maskInput } = prompts;
    const feeds: Record<string, FloatTensor> = {
      image_embed: features.imageEmbedding,
      high_res_feats_0: features.highResFeatures[0],
      high_res_feats_1: features.highResFeatures[1],
      ...sam2PointFeeds(fn, prompts, originalSize),
    };
    if (maskInput) {
      feeds.mask_input = floatTensor(maskInput.data, [1, 1, LOW_RES_SIZE, LOW_RES_SIZE]);
      feeds.has_mask_input = floatTensor(Float32Array.of(1), [1]);
    }
    const out = await (await this.decoder(maskInput ? 'mask' : 'plain')).run(feeds);
    return {
      masks: out.low_res_masks as FloatTensor,
      iou: out.iou_predictions as FloatTensor,
      objectScore: out.object_score_logits as FloatTensor,
    };
  }

  /** Post-processes unclamped `low [B,M,256,256]` to the original size. */
  private async postprocess(
    kind: MaskOutputKind,
    low: FloatTensor,
    originalSize: readonly [number, number],
  ): Promise<Omit<BatchDecodeResult, 'lowResMasks' | 'iouPredictions'>> {
    const [b, m] = low.shape as [number, number];
    const size: HostTensor = { dtype: 'int64', shape: [2], data: BigInt64Array.from(originalSize, BigInt) };
    const out = await (await this.post(kind)).runTyped({ low_res_masks: low, original_size: size });
    return postprocessOutputs(out, kind, [b, m], originalSize);
  }

  /**
   * Official `SAM2ImagePredictor.predict(…, return_logits=True)` for one prompt set in ORIGINAL pixels.
   * `opts.multimask`: true (default) tokens 1..3; false token 0 with the stability fallback;
   * `'auto'` SAM 1's rule (one click, no box: the best of tokens 1..3 by predicted IoU; else single).
   * @param originalSize (H,W) of the original image
   * @returns `lowResMasks [M,256,256]` (±32), `iouPredictions [M]`, the extras, and by `maskOutput`
   *   `masks [M,H,W]` logits, `binaryMasks [M,H,W]` uint8 or `rle`
   */
  async predict(
    features: Sam2PredictorFeatures,
    prompts: PredictPrompts,
    originalSize: readonly [number, number],
    opts: DecodeOptions = {},
  ): Promise<Sam2DecodeResult> {
    const all = await this.decodeAll('Sam2OrtDecoder.predict', features, prompts, originalSize);
    const auto = opts.multimask === 'auto';
    const multimask = auto
      ? useMultimask({ hasBox: prompts.box !== undefined, numPoints: prompts.points?.length ?? 0 })
      : (opts.multimask ?? true);
    const sel = selectSam2Masks(this.config, all.masks, all.iou, multimask);
    let tokens = sel.tokens[0] as number[];
    let low = sel.masks.data;
    let iou = sel.iou.data;
    if (auto && multimask) {
      const k = selectMaskIndex(iou);
      tokens = [tokens[k] as number];
      low = low.slice(k * PLANE, (k + 1) * PLANE);
      iou = iou.slice(k, k + 1);
    }
    const m = tokens.length;
    const unclamped = floatTensor(low, [m, LOW_RES_SIZE, LOW_RES_SIZE]);
    const base = {
      lowResMasks: clampLogits(unclamped),
      iouPredictions: floatTensor(iou, [m]),
      allIouPredictions: floatTensor(all.iou.data, [4]),
      objectScoreLogits: floatTensor(all.objectScore.data, [1]),
      tokens,
    };
    const kind = maskOutputOf(opts);
    if (kind === 'none') return base;
    const post = await this.postprocess(kind, floatTensor(low, [1, m, LOW_RES_SIZE, LOW_RES_SIZE]), originalSize);
    return { ...base, ...singlePromptOutputs(post, m, originalSize) };
  }

  /**
   * Several boxes on one image (`predict(box=Bx4)`), ORIGINAL pixels; the decoder runs once per box,
   * the post-processing once for all. `multimask`: true (default) tokens 1..3; false or `'auto'`
   * one mask per box (token 0 unless unstable).
   * @returns `[B,M,…]` outputs, `allIouPredictions [B,4]`, `objectScoreLogits [B,1]`
   */
  async predictBatchBoxes(
    features: Sam2PredictorFeatures,
    boxes: readonly Box[],
    originalSize: readonly [number, number],
    opts: DecodeOptions = {},
  ): Promise<Sam2BatchDecodeResult> {
    if (boxes.length === 0)
      throw new PredictorInputError('Sam2OrtDecoder.predictBatchBoxes(boxes): expected at least one box, got 0');
    const multimask = opts.multimask === true || opts.multimask === undefined;
    const m = multimask ? 3 : 1;
    const b = boxes.length;
    const low = new Float32Array(b * m * PLANE);
    const iou = new Float32Array(b * m);
    const allIou = new Float32Array(b * 4);
    const obj = new Float32Array(b);
    const tokens: number[][] = [];
    for (const [i, box] of boxes.entries()) {
      const all = await this.decodeAll('Sam2OrtDecoder.predictBatchBoxes', features, { box }, originalSize);
      const sel = selectSam2Masks(this.config, all.masks, all.iou, multimask);
      low.set(sel.masks.data, i * m * PLANE);
      iou.set(sel.iou.data, i * m);
      allIou.set(all.iou.data, i * 4);
      obj[i] = all.objectScore.data[0] as number;
      tokens.push(sel.tokens[0] as number[]);
    }
    const unclamped = floatTensor(low, [b, m, LOW_RES_SIZE, LOW_RES_SIZE]);
    const base = {
      lowResMasks: clampLogits(unclamped),
      iouPredictions: floatTensor(iou, [b, m]),
      allIouPredictions: floatTensor(allIou, [b, 4]),
      objectScoreLogits: floatTensor(obj, [b, 1]),
      tokens,
    };
    const kind = maskOutputOf(opts);
    if (kind === 'none') return base;
    return { ...base, ...(await this.postprocess(kind, unclamped, originalSize)) };
  }

  /** Frees every session; later calls throw. */
  async release(): Promise<void> {
    await Promise.all([this.decoders.release(), this.posts.release()]);
  }
}
