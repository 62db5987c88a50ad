/**
 * `SamModel`: one loaded SAM (config + weights) with its two executors, the way the official `Sam`
 * module bundles encoder, prompt encoder and decoder:
 * - the frozen image encoder as an onnxruntime-node session (built lazily from the weights),
 * - the prompt encoder + mask decoder as a tfjs `SamPredictor`.
 * Apps (CLI, server) and the trainer compose this instead of wiring the parts themselves.
 */
import { preprocessImage, type RgbImage } from '@samtune/transforms';
import { expectedShapes } from './checkpoint/expected-shapes.js';
import { loadSamCheckpoint, type LoadSamCheckpointOptions } from './checkpoint/load.js';
import { readSafetensors, writeSafetensors } from './checkpoint/safetensors.js';
import { getPreset, type SamConfig } from './config.js';
import { ImageEncoderSession } from './image-encoder/onnx-encoder.js';
import { initWeightsFromShapes } from './init.js';
import { SamPredictor, type PredictOptions, type PredictPrompts, type PredictResult } from './predictor.js';
import type { SessionOptions, FloatTensor, WeightMap } from '@samtune/onnx';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** An image's embedding with the sizes needed to map prompts and masks. */
export interface ImageEmbedding {
  /** `image_embeddings` `[1,256,64,64]`. */
  readonly embedding: FloatTensor;
  /** `(H,W)` of the original image (the frame of prompts and output masks). */
  readonly originalSize: readonly [number, number];
  /** `(h,w)` of the resized image inside the 1024 square. */
  readonly inputSize: readonly [number, number];
}

/** Where a model's weights came from, for messages and cache keys. */
export interface ModelSource {
  /** File read, or `seeded:<preset>:<seed>`. */
  readonly path: string;
  /** SHA-256 of the checkpoint file, or of the seed description for seeded models. */
  readonly sha256: string;
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

  constructor(
    readonly config: SamConfig,
    readonly weights: WeightMap,
    readonly source: ModelSource,
    private readonly sessionOptions: SessionOptions = {},
  ) {}

  /** Loads a checkpoint by path or registry name (`tiny_vit`, `vit_b`, …; see `loadSamCheckpoint`). */
  static async load(
    nameOrPath: string,
    opts: LoadSamCheckpointOptions & { session?: SessionOptions } = {},
  ): Promise<SamModel> {
    const ckpt = await loadSamCheckpoint(nameOrPath, opts);
    return new SamModel(ckpt.config, ckpt.weights, { path: ckpt.path, sha256: ckpt.sha256 }, opts.session);
  }

  /** A deterministic random model of a preset (`tiny_vit`, `vit_b`, …): demos and benchmarks. */
  static seeded(preset: string, seed = 0, session?: SessionOptions): SamModel {
    const config = getPreset(preset);
    const weights = initWeightsFromShapes(expectedShapes(config), seed);
    const id = `seeded:${preset}:${seed}`;
    return new SamModel(config, weights, { path: id, sha256: id }, session);
  }

  /** The image-encoder session (built on first use: ~0.1-1 s for TinyViT, more for ViT-H). */
  encoder(): Promise<ImageEncoderSession> {
    this.encoderSession ??= ImageEncoderSession.create(this.config.imageEncoder, this.weights, this.sessionOptions);
    return this.encoderSession;
  }

  /** The tfjs prompt encoder + mask decoder (frozen here; the trainer builds its own trainable one). */
  predictor(): SamPredictor {
    this.samPredictor ??= new SamPredictor({ config: this.config, weights: this.weights, trainable: false });
    return this.samPredictor;
  }

  /** Official preprocessing (PIL-exact resize, normalise, pad) then the encoder on onnxruntime. */
  async embedImage(img: RgbImage): Promise<ImageEmbedding> {
    const pre = preprocessImage(img, this.config.pixelMean, this.config.pixelStd, this.config.imageEncoder.imgSize);
    const embedding = await (await this.encoder()).embed(pre.tensor);
    return { embedding, originalSize: pre.originalSize, inputSize: pre.inputSize };
  }

  /** Masks for prompts in ORIGINAL image pixels (see `SamPredictor.predict`). */
  predict(emb: ImageEmbedding, prompts: PredictPrompts, opts: PredictOptions = {}): PredictResult {
    return this.predictor().predict(emb.embedding, prompts, emb.originalSize, opts);
  }

  /** Frees the onnxruntime session and the tfjs tensors. */
  async release(): Promise<void> {
    this.samPredictor?.dispose();
    this.samPredictor = undefined;
    const s = this.encoderSession;
    this.encoderSession = undefined;
    if (s) await (await s).release();
  }
}

const SIZE_KEYS = { originalSize: 'original_size', inputSize: 'input_size' } as const;

/**
 * Writes an embedding as safetensors: tensor `image_embeddings` [1,256,64,64], metadata
 * `original_size` / `input_size` as `"H,W"`, plus `extra` entries. Atomic.
 */
export function writeEmbedding(path: string, emb: ImageEmbedding, extra: Record<string, string> = {}): void {
  writeSafetensors(path, new Map([['image_embeddings', emb.embedding]]), {
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
  return {
    embedding: t as FloatTensor,
    originalSize: parseSize(path, metadata, SIZE_KEYS.originalSize),
    inputSize: parseSize(path, metadata, SIZE_KEYS.inputSize),
    metadata,
  };
}
