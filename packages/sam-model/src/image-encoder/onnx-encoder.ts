/**
 * The image encoder as an ONNX model built from loaded weights (recorded by `OnnxGraphOps` from the
 * one `imageEncoder` definition) and run on onnxruntime-node.
 * Model I/O: input `images` float32 `[1,3,S,S]` (normalised, zero-padded; S = 1024), output
 * `image_embeddings` float32 `[1,256,S/16,S/16]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageEncoderConfig } from '../config.js';
import { OnnxGraphOps, EXTERNAL_DATA_THRESHOLD_BYTES, createSession } from '@samtune/onnx';
import type { SavedModel, SaveOptions, Session, SessionOptions } from '@samtune/onnx';
import type { FloatTensor, WeightMap } from '@samtune/tensor';
import { imageEncoder } from './image-encoder.js';
import { prepareImageEncoderWeights } from './prepare.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** ONNX input name of the encoder model. */
export const IMAGE_ENCODER_INPUT = 'images';
/** ONNX output name of the encoder model (the fixtures' tensor name). */
export const IMAGE_ENCODER_OUTPUT = 'image_embeddings';

/** Thrown by `ImageEncoderSession.embed` for an input of the wrong length. */
export class EmbedInputError extends SamtuneError {
  readonly code: string = 'embed-input';
  readonly kind: ErrorKind = 'input';
}

/**
 * Records the encoder graph: prepares the build-time constants (`prepareImageEncoderWeights`), declares
 * `images [1,3,S,S]`, runs `imageEncoder` on `OnnxGraphOps` and declares `image_embeddings`.
 * @param weights checkpoint weights (keys `image_encoder.…`); other keys are ignored.
 */
export function recordImageEncoderGraph(config: ImageEncoderConfig, weights: WeightMap): OnnxGraphOps {
  const ops = new OnnxGraphOps(prepareImageEncoderWeights(config, weights));
  ops.builder.setMetadata('samtune.component', 'image_encoder');
  ops.builder.setMetadata('samtune.image_encoder_config', JSON.stringify(config));
  const images = ops.input(IMAGE_ENCODER_INPUT, [1, config.inChans, config.imgSize, config.imgSize]);
  const out = ops.scoped('image_encoder', () => imageEncoder(ops, config, images));
  ops.output(IMAGE_ENCODER_OUTPUT, out);
  return ops;
}

/**
 * The encoder as ONNX model bytes (opset 17, weights as initializers).
 * Throws `ModelTooLargeError` past protobuf's 2 GiB (ViT-H): use `saveImageEncoderOnnx` then.
 */
export function buildImageEncoderOnnx(config: ImageEncoderConfig, weights: WeightMap): Uint8Array {
  return recordImageEncoderGraph(config, weights).builder.toModelBytes();
}

/** Writes the encoder model to `path` (initializers go to `<path>.data` when large, see `SaveOptions`). */
export function saveImageEncoderOnnx(
  config: ImageEncoderConfig,
  weights: WeightMap,
  path: string,
  opts?: SaveOptions,
): SavedModel {
  return recordImageEncoderGraph(config, weights).builder.save(path, opts);
}

/** Options of `ImageEncoderSession.create`. */
export interface ImageEncoderSessionOptions extends SessionOptions {
  /**
   * Models whose initializers exceed this many bytes are loaded through a temporary `.onnx` + `.data`
   * pair instead of bytes (protobuf's 2 GiB limit). Default `EXTERNAL_DATA_THRESHOLD_BYTES` (1.8 GB).
   */
  externalDataThresholdBytes?: number;
  /**
   * ORT's spinning intra-op workers (`SessionOptions.spinning`). Default false here: on a shared
   * machine the spinning worker holds a core another process needs (bench/results/embed.md).
   */
  spinning?: boolean;
  /**
   * ORT's memory pattern (`SessionOptions.memPattern`). Default false here: with it, the second
   * image of a process re-faults ~220 MB (TinyViT) that the first image's arena already holds.
   */
  memPattern?: boolean;
}

/**
 * Opens a session on a recorded graph: from bytes, or, when its initializers exceed the threshold
 * (ViT-H), through a temporary `.onnx` + `.data` pair removed after loading.
 */
export async function openRecordedSession(ops: OnnxGraphOps, opts: ImageEncoderSessionOptions = {}): Promise<Session> {
  opts = { ...opts, spinning: opts.spinning ?? false, memPattern: opts.memPattern ?? false };
  if (ops.builder.initializerBytes() <= (opts.externalDataThresholdBytes ?? EXTERNAL_DATA_THRESHOLD_BYTES)) {
    return createSession(ops.builder.toModelBytes(), opts);
  }
  const dir = mkdtempSync(join(tmpdir(), 'samtune-encoder-'));
  try {
    const saved = ops.builder.save(join(dir, 'image_encoder.onnx'), { externalData: 'always' });
    return await createSession(saved.modelPath, opts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An onnxruntime session of the image encoder: build once, then `embed` any number of images. */
export class ImageEncoderSession {
  private constructor(
    private readonly session: Session,
    readonly config: ImageEncoderConfig,
  ) {}

  /**
   * Builds the encoder model from checkpoint weights and opens a session on it. Models over the
   * external-data threshold (ViT-H) go through a temporary `.onnx` + `.data` pair, removed after loading.
   */
  static async create(
    config: ImageEncoderConfig,
    weights: WeightMap,
    opts: ImageEncoderSessionOptions = {},
  ): Promise<ImageEncoderSession> {
    return new ImageEncoderSession(await openRecordedSession(recordImageEncoderGraph(config, weights), opts), config);
  }

  /** Opens a session on an encoder model written before (bytes, or a `.onnx` path). */
  static async fromModel(
    model: Uint8Array | string,
    config: ImageEncoderConfig,
    opts?: SessionOptions,
  ): Promise<ImageEncoderSession> {
    return new ImageEncoderSession(await createSession(model, { memPattern: false, ...opts }), config);
  }

  /**
   * @param images `[1,3,S,S]` float32 (S = 1024), normalised with the pixel mean/std then zero-padded
   *   bottom/right (`normalizeAndPad`).
   * @returns `image_embeddings` `[1,256,S/16,S/16]`.
   */
  async embed(images: Float32Array): Promise<FloatTensor> {
    const { inChans, imgSize } = this.config;
    const shape = [1, inChans, imgSize, imgSize];
    if (images.length !== inChans * imgSize * imgSize) {
      throw new EmbedInputError(
        `ImageEncoderSession.embed(images): expected ${inChans * imgSize * imgSize} floats ([${shape.join(',')}]), got ${images.length}`,
      );
    }
    const out = await this.session.run({ [IMAGE_ENCODER_INPUT]: { dtype: 'float32', shape, data: images } }, [
      IMAGE_ENCODER_OUTPUT,
    ]);
    return out[IMAGE_ENCODER_OUTPUT] as FloatTensor;
  }

  /** Frees the native session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}
