/**
 * `Sam2Model`: a SAM 2.1 checkpoint behind `SamModel`'s two calls, so that what takes a `SamModel`
 * through `embedImage` / `predict` (autolabel, `samtune predict`, the server) takes SAM 2.1 too: the
 * Hiera encoder on onnxruntime (`Sam2EmbeddingModel`) and the decoder on `engine`: `ort` (default,
 * `Sam2OrtDecoder`) or `tfjs` (`Sam2Predictor`, the reference), both with `SAM2ImagePredictor`'s
 * rules (single-mask calls with the stability fallback, logits clamped to ±32).
 * `multimask: 'auto'` is SAM 1's rule (one point: the best of the 3 masks by predicted IoU).
 */
import { floatTensor, type FloatTensor, type HostTensor } from '@samtune/tensor';
import type { RgbImage } from '@samtune/transforms';
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import { selectMaskIndex, useMultimask } from '../mask-selection.js';
import type { PredictPrompts } from '../predictor.js';
import type { DecoderEngine, ImageEmbedding, ModelSource } from '../sam.js';
import {
  maskOutputOf,
  type DecodeOptions,
  type DecodeResult,
  type OrtDecoderOptions,
} from '../engines/ort-decoder/ort-decoder.js';
import { binaryOutputs } from '../engines/tfjs-decode.js';
import { loadSam2Checkpoint, type LoadSam2CheckpointOptions } from './checkpoint.js';
import type { Sam2Config } from './config.js';
import { Sam2EmbeddingModel } from './embedding-model.js';
import type { Sam2EncoderSession } from './onnx-encoder.js';
import { Sam2OrtDecoder } from './ort-decoder.js';
import { Sam2Predictor } from './predictor.js';
import { sam2PredictorWeights } from './predictor-weights.js';

/** Thrown for an embedding without the high-res levels a SAM 2.1 decoder reads. */
export class Sam2EmbeddingError extends SamtuneError {
  readonly code: string = 'sam2-embedding';
  readonly kind: ErrorKind = 'input';
}

/** Options of `Sam2Model.load`. */
export interface Sam2ModelOptions {
  /** Engine of `predict` (default `ort`). */
  readonly engine?: DecoderEngine;
  /** Options of the ORT engine. */
  readonly ort?: OrtDecoderOptions;
}

export class Sam2Model {
  /** Engine of `predict` (see `Sam2ModelOptions.engine`); may be changed at any time. */
  engine: DecoderEngine;
  private ort: Sam2OrtDecoder | undefined;
  private tfjs: Sam2Predictor | undefined;

  private constructor(
    readonly config: Sam2Config,
    readonly source: ModelSource,
    private readonly encoder: Sam2EmbeddingModel,
    /** The decoder side under samtune's names (`sam2PredictorWeights`). */
    private readonly decoderWeights: Map<string, HostTensor>,
    private readonly options: Sam2ModelOptions,
  ) {
    this.engine = options.engine ?? 'ort';
  }

  /** Loads a checkpoint (registry name or path) and builds the encoder session. */
  static async load(nameOrPath: string, opts: LoadSam2CheckpointOptions & Sam2ModelOptions = {}): Promise<Sam2Model> {
    const ckpt = await loadSam2Checkpoint(nameOrPath, opts);
    const encoder = await Sam2EmbeddingModel.fromCheckpoint(ckpt);
    const source = { path: ckpt.path, sha256: ckpt.sha256 };
    return new Sam2Model(ckpt.config, source, encoder, sam2PredictorWeights(ckpt.weights), opts);
  }

  /** The ORT decoder engine (sessions built on first use, kept until `release`). */
  ortEngine(): Sam2OrtDecoder {
    this.ort ??= new Sam2OrtDecoder(this.decoderWeights, this.config, this.options.ort ?? {});
    return this.ort;
  }

  /** The tfjs predictor (built on first use). */
  predictor(): Sam2Predictor {
    this.tfjs ??= new Sam2Predictor({ config: this.config, weights: this.decoderWeights, trainable: false });
    return this.tfjs;
  }

  /** `image_embeddings` + `highResFeats` of an ORIGINAL RGB image. */
  embedImage(img: RgbImage): Promise<ImageEmbedding> {
    return this.encoder.embedImage(img);
  }

  /** The Hiera encoder session (pre-processed image in, `Sam2Embedding` out): an `EmbeddingCache`'s embedder. */
  encoderSession(): Sam2EncoderSession {
    return this.encoder.encoder();
  }

  /** Masks for one prompt set in ORIGINAL pixels (`DecodeOptions` as `SamModel.predict`): `[M,…]` outputs. */
  async predict(emb: ImageEmbedding, prompts: PredictPrompts, opts: DecodeOptions = {}): Promise<DecodeResult> {
    if (!emb.highResFeats)
      throw new Sam2EmbeddingError(
        `Sam2Model.predict(emb): a SAM 2.1 model needs the embedding's high_res_feats.0/.1 (an embedding of this checkpoint), got an embedding without them`,
      );
    if (this.engine === 'ort') {
      const features = { imageEmbedding: emb.embedding, highResFeatures: emb.highResFeats };
      return this.ortEngine().predict(features, prompts, emb.originalSize, opts);
    }
    const kind = maskOutputOf(opts);
    const auto = opts.multimask === 'auto';
    const multimask = auto
      ? useMultimask({ hasBox: prompts.box !== undefined, numPoints: prompts.points?.length ?? 0 })
      : (opts.multimask ?? true);
    const r = this.predictor().predict(
      { imageEmbedding: emb.embedding, highResFeatures: emb.highResFeats },
      prompts,
      emb.originalSize,
      { multimask, returnMasks: kind !== 'none' },
    );
    // [1,M,…] -> [M,…]; 'auto' with 3 masks keeps the best one
    const k = auto && multimask ? selectMaskIndex(r.iouPredictions.data) : -1;
    const rows = (t: FloatTensor): FloatTensor => {
      const shape = t.shape.slice(1);
      if (k < 0) return floatTensor(t.data, shape);
      const n = t.data.length / (shape[0] as number);
      return floatTensor(t.data.slice(k * n, (k + 1) * n), [1, ...shape.slice(1)]);
    };
    const masks = r.masks ? rows(r.masks) : undefined;
    const out = {
      lowResMasks: rows(r.lowResMasks),
      iouPredictions: rows(r.iouPredictions),
      ...(masks ? { masks } : {}),
    };
    if (kind !== 'binary' && kind !== 'rle') return out;
    const { masks: logits, ...rest } = out;
    return { ...rest, ...binaryOutputs(logits as FloatTensor, emb.originalSize, this.config.maskThreshold, kind) };
  }

  /** Frees the encoder session, the decoder sessions and the tfjs decoder's tensors. */
  async release(): Promise<void> {
    this.tfjs?.dispose();
    await this.ort?.release();
    await this.encoder.release();
  }
}
