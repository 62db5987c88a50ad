/**
 * `SamModel`: one loaded SAM (config + weights) with its executors, the way the official `Sam`
 * module bundles encoder, prompt encoder and decoder:
 * - the frozen image encoder as an onnxruntime-node session (built lazily from the weights),
 * - the prompt encoder + mask decoder + post-processing for `predict` on the `ort` engine
 *   (`OrtDecoder`, default) or the `tfjs` engine (`SamPredictor`, the reference),
 * - a tfjs `SamPredictor` for training (`predictor()`).
 * Apps (CLI, server) and the trainer compose this instead of wiring the parts themselves.
 */
import { preprocessImage, type RgbImage } from '@samtune/transforms';
import { expectedShapes } from './checkpoint/expected-shapes.js';
import { loadSamCheckpoint, type LoadSamCheckpointOptions } from './checkpoint/load.js';
import { readSafetensors, writeSafetensors } from './checkpoint/safetensors.js';
import { getPreset, type SamConfig } from './config.js';
import {
  OrtDecoder,
  type BatchDecodeResult,
  type DecodeOptions,
  type DecodeResult,
  type ExecutionProvider,
} from './engines/ort-decoder/ort-decoder.js';
import { ImageEncoderSession } from './image-encoder/onnx-encoder.js';
import { initWeightsFromShapes } from './init.js';
import { MASK_DECODER_PREFIX } from './mask-decoder.js';
import { predictTfjs, predictBatchBoxesTfjs } from './engines/tfjs-decode.js';
import { PredictorInputError, SamPredictor, type Box, type PredictPrompts } from './predictor.js';
import type { SessionOptions, FloatTensor, HostTensor, WeightMap } from '@samtune/onnx';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** An image's embedding with the sizes needed to map prompts and masks. */
export interface ImageEmbedding {
  /** `image_embeddings` `[1,256,64,64]`. */
  readonly embedding: FloatTensor;
  /** `(H,W)` of the original image (the frame of prompts and output masks). */
  readonly originalSize: readonly [number, number];
  /** `(h,w)` of the resized image inside the 1024 square (SAM 2.1: the whole square). */
  readonly inputSize: readonly [number, number];
  /**
   * SAM 2.1 only: `high_res_feats` `[1,32,256,256]` and `[1,64,128,128]` (neck levels 0/1 through
   * `conv_s0`/`conv_s1`), read by the SAM 2 mask decoder. Absent for SAM 1.
   */
  readonly highResFeats?: readonly [FloatTensor, FloatTensor];
}

/** Where a model's weights came from, for messages and cache keys. */
export interface ModelSource {
  /** File read, or `seeded:<preset>:<seed>`. */
  readonly path: string;
  /** SHA-256 of the checkpoint file, or of the seed description for seeded models. */
  readonly sha256: string;
}

/** Which executor runs `SamModel.predict`: onnxruntime-node (default) or tfjs (the reference). */
export type DecoderEngine = 'ort' | 'tfjs';

/** Options of a `SamModel`. */
export interface SamModelOptions {
  /** Image-encoder session options. */
  readonly session?: SessionOptions;
  /** Engine of `predict` / `predictBatchBoxes` (default `ort`). */
  readonly engine?: DecoderEngine;
  /**
   * onnxruntime execution provider of the ORT decoder (default `cpu`). `cuda` needs
   * onnxruntime-node's CUDA build and a CUDA GPU; it is UNTESTED in this project (no GPU here).
   */
  readonly executionProvider?: ExecutionProvider;
  /** ORT intra-op threads of the decoder sessions (default 1). */
  readonly decoderThreads?: number;
}

/** Thrown for a malformed embedding file. */
export class EmbeddingFileError extends SamtuneError {
  readonly code: string = 'embedding-file';
  readonly kind: ErrorKind = 'input';
  override readonly name = 'EmbeddingFileError';
}

export class SamModel {
  private encoderSession: Promise<ImageEncoderSession> | undefined;
  private samPredictor: SamPredictor | undefined;
  private ortDecoder: OrtDecoder | undefined;
  /** Engine of `predict` (see `SamModelOptions.engine`); may be changed at any time. */
  engine: DecoderEngine;

  constructor(
    readonly config: SamConfig,
    readonly weights: WeightMap,
    readonly source: ModelSource,
    private readonly options: SamModelOptions = {},
  ) {
    this.engine = options.engine ?? 'ort';
  }

  /** Loads a checkpoint by path or registry name (`tiny_vit`, `vit_b`, …; see `loadSamCheckpoint`). */
  static async load(nameOrPath: string, opts: LoadSamCheckpointOptions & SamModelOptions = {}): Promise<SamModel> {
    const ckpt = await loadSamCheckpoint(nameOrPath, opts);
    return new SamModel(ckpt.config, ckpt.weights, { path: ckpt.path, sha256: ckpt.sha256 }, opts);
  }

  /** A deterministic random model of a preset (`tiny_vit`, `vit_b`, …): demos and benchmarks. */
  static seeded(preset: string, seed = 0, opts: SamModelOptions = {}): SamModel {
    const config = getPreset(preset);
    const weights = initWeightsFromShapes(expectedShapes(config), seed);
    const id = `seeded:${preset}:${seed}`;
    return new SamModel(config, weights, { path: id, sha256: id }, opts);
  }

  /** The image-encoder session (built on first use: ~0.1-1 s for TinyViT, more for ViT-H). */
  encoder(): Promise<ImageEncoderSession> {
    this.encoderSession ??= ImageEncoderSession.create(this.config.imageEncoder, this.weights, this.options.session);
    return this.encoderSession;
  }

  /** The tfjs prompt encoder + mask decoder (frozen here; the trainer builds its own trainable one). */
  predictor(): SamPredictor {
    this.samPredictor ??= new SamPredictor({ config: this.config, weights: this.weights, trainable: false });
    return this.samPredictor;
  }

  /** The ORT decoder engine (sessions built on first use, kept until `updateDecoderWeights`/`release`). */
  ortEngine(): OrtDecoder {
    this.ortDecoder ??= new OrtDecoder(this.config, this.weights, {
      ...(this.options.executionProvider ? { executionProvider: this.options.executionProvider } : {}),
      ...(this.options.decoderThreads ? { intraOpNumThreads: this.options.decoderThreads } : {}),
    });
    return this.ortDecoder;
  }

  /** Official preprocessing (PIL-exact resize, normalise, pad) then the encoder on onnxruntime. */
  async embedImage(img: RgbImage): Promise<ImageEmbedding> {
    const pre = preprocessImage(img, this.config.pixelMean, this.config.pixelStd, this.config.imageEncoder.imgSize);
    const embedding = await (await this.encoder()).embed(pre.tensor);
    return { embedding, originalSize: pre.originalSize, inputSize: pre.inputSize };
  }

  /**
   * Masks for prompts in ORIGINAL image pixels (official `SamPredictor.predict`, `return_logits`),
   * on `this.engine`. `opts.multimask`: true (default) tokens 1..3, false token 0, `'auto'` the
   * samtune rule (one mask); `opts.maskOutput`: `logits` (default) `masks [M,H,W]` float32, `binary`
   * `binaryMasks [M,H,W]` uint8, `rle` COCO RLE, `none`.
   */
  predict(emb: ImageEmbedding, prompts: PredictPrompts, opts: DecodeOptions = {}): Promise<DecodeResult> {
    if (this.engine === 'ort') return this.ortEngine().predict(emb.embedding, prompts, emb.originalSize, opts);
    return Promise.resolve(predictTfjs(this.predictor(), emb.embedding, prompts, emb.originalSize, opts));
  }

  /** Several boxes (ORIGINAL pixels, XYXY) on one embedding: `[B,M,…]` outputs (see `OrtDecoder.predictBatchBoxes`). */
  predictBatchBoxes(emb: ImageEmbedding, boxes: readonly Box[], opts: DecodeOptions = {}): Promise<BatchDecodeResult> {
    if (this.engine === 'ort') return this.ortEngine().predictBatchBoxes(emb.embedding, boxes, emb.originalSize, opts);
    return Promise.resolve(predictBatchBoxesTfjs(this.predictor(), emb.embedding, boxes, emb.originalSize, opts));
  }

  /**
   * Replaces the mask-decoder weights (keys `mask_decoder.*`, same shapes; other keys are ignored),
   * e.g. after training: the ORT decoder sessions are rebuilt on the next call and the tfjs
   * predictor's variables are overwritten.
   * @throws PredictorInputError for an unknown key's shape mismatch
   */
  async updateDecoderWeights(weights: WeightMap): Promise<void> {
    for (const [key, t] of weights) {
      if (!key.startsWith(MASK_DECODER_PREFIX)) continue;
      const old = this.weights.get(key);
      if (!old || old.shape.length !== t.shape.length || old.shape.some((d, i) => d !== t.shape[i])) {
        throw new PredictorInputError(
          `SamModel.updateDecoderWeights(weights): '${key}' has shape [${t.shape.join(',')}], expected ${old ? `[${old.shape.join(',')}]` : 'no such key'}`,
        );
      }
    }
    for (const [key, t] of weights) if (key.startsWith(MASK_DECODER_PREFIX)) this.weights.set(key, t);
    this.samPredictor?.setMaskDecoderWeights(weights);
    await this.ortDecoder?.updateWeights(this.weights);
  }

  /** Frees the onnxruntime sessions and the tfjs tensors. */
  async release(): Promise<void> {
    this.samPredictor?.dispose();
    this.samPredictor = undefined;
    const d = this.ortDecoder;
    this.ortDecoder = undefined;
    await d?.release();
    const s = this.encoderSession;
    this.encoderSession = undefined;
    if (s) await (await s).release();
  }
}

const SIZE_KEYS = { originalSize: 'original_size', inputSize: 'input_size' } as const;
/** Tensor names of an embedding file (the fixtures' names). */
export const EMBEDDING_TENSORS = {
  embedding: 'image_embeddings',
  highResFeats: ['high_res_feats.0', 'high_res_feats.1'],
} as const;

/** The tensors of an embedding by file name: `image_embeddings`, and the SAM 2.1 levels when present. */
export function embeddingTensors(emb: ImageEmbedding): WeightMap {
  const out: WeightMap = new Map([[EMBEDDING_TENSORS.embedding, emb.embedding]]);
  if (emb.highResFeats) EMBEDDING_TENSORS.highResFeats.forEach((n, i) => out.set(n, emb.highResFeats![i]!));
  return out;
}

/**
 * The SAM 2.1 levels of an embedding file's tensors: both, or none (SAM 1).
 * @returns `{ feats }` with both, `{}` with neither, `{ problem }` (a message naming what is wrong) otherwise.
 */
export function highResFeatsOf(tensors: ReadonlyMap<string, HostTensor>): {
  feats?: readonly [FloatTensor, FloatTensor];
  problem?: string;
} {
  const [a, b] = EMBEDDING_TENSORS.highResFeats.map((n) => tensors.get(n));
  if (!a && !b) return {};
  const ok = (t: HostTensor | undefined): t is FloatTensor =>
    t !== undefined && t.dtype === 'float32' && t.shape.length === 4 && t.shape[0] === 1;
  if (!ok(a) || !ok(b))
    return {
      problem: `expected both float32 '${EMBEDDING_TENSORS.highResFeats.join("' and '")}' [1,C,h,w] or neither (got ${[a, b].map((t) => (t ? `${t.dtype} [${t.shape.join(',')}]` : 'none')).join(', ')})`,
    };
  return { feats: [a, b] };
}

/**
 * Writes an embedding as safetensors: tensor `image_embeddings` [1,256,64,64] (SAM 2.1: also
 * `high_res_feats.0` / `.1`), metadata `original_size` / `input_size` as `"H,W"`, plus `extra`
 * entries. Atomic.
 */
export function writeEmbedding(path: string, emb: ImageEmbedding, extra: Record<string, string> = {}): void {
  writeSafetensors(path, embeddingTensors(emb), {
    ...extra,
    [SIZE_KEYS.originalSize]: emb.originalSize.join(','),
    [SIZE_KEYS.inputSize]: emb.inputSize.join(','),
  });
}

function parseSize(path: string, meta: Record<string, string>, key: string): [number, number] {
  const parts = (meta[key] ?? '').split(',').map(Number);
  const [h, w] = parts;
  if (parts.length !== 2 || !Number.isInteger(h) || !Number.isInteger(w) || (h as number) <= 0 || (w as number) <= 0) {
    throw new EmbeddingFileError(
      `readEmbedding(path): ${path} has metadata ${key}='${meta[key] ?? ''}', expected "H,W"`,
    );
  }
  return [h as number, w as number];
}

/** Reads a file written by `writeEmbedding` (or `samtune embed`). */
export function readEmbedding(path: string): ImageEmbedding & { metadata: Record<string, string> } {
  const { tensors, metadata } = readSafetensors(path);
  const t = tensors.get('image_embeddings');
  if (!t || t.dtype !== 'float32' || t.shape.length !== 4 || t.shape[0] !== 1) {
    throw new EmbeddingFileError(
      `readEmbedding(path): ${path} has no float32 'image_embeddings' [1,C,h,w] (got ${t ? `${t.dtype} [${t.shape.join(',')}]` : 'none'})`,
    );
  }
  const high = highResFeatsOf(tensors);
  if (high.problem) throw new EmbeddingFileError(`readEmbedding(path): ${path}: ${high.problem}`);
  return {
    embedding: t as FloatTensor,
    originalSize: parseSize(path, metadata, SIZE_KEYS.originalSize),
    inputSize: parseSize(path, metadata, SIZE_KEYS.inputSize),
    ...(high.feats ? { highResFeats: high.feats } : {}),
    metadata,
  };
}
