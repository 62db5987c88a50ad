/**
 * SAM 2.1 image features from a checkpoint in one object, the SAM 2.1 side of `SamModel.embedImage`:
 * load (path or registry name), `preprocessImageSam2`, the encoder on onnxruntime.
 */
import type { SessionOptions } from '@samtune/onnx';
import { preprocessImageSam2, type RgbImage } from '@samtune/transforms';
import type { ImageEmbedding, ModelSource } from '../sam.js';
import { loadSam2Checkpoint, type LoadedSam2Checkpoint, type LoadSam2CheckpointOptions } from './checkpoint.js';
import type { Sam2Config } from './config.js';
import { Sam2EncoderSession } from './onnx-encoder.js';

export class Sam2EmbeddingModel {
  private constructor(
    readonly config: Sam2Config,
    readonly source: ModelSource,
    private readonly session: Sam2EncoderSession,
  ) {}

  /** Loads the checkpoint and builds the encoder session. */
  static async load(
    nameOrPath: string,
    opts: LoadSam2CheckpointOptions & { session?: SessionOptions } = {},
  ): Promise<Sam2EmbeddingModel> {
    return Sam2EmbeddingModel.fromCheckpoint(await loadSam2Checkpoint(nameOrPath, opts), opts.session);
  }

  /** Builds the encoder session of an already loaded checkpoint (whose weights the caller also uses). */
  static async fromCheckpoint(ckpt: LoadedSam2Checkpoint, session?: SessionOptions): Promise<Sam2EmbeddingModel> {
    const s = await Sam2EncoderSession.create(ckpt.config.imageEncoder, ckpt.weights, session);
    return new Sam2EmbeddingModel(ckpt.config, { path: ckpt.path, sha256: ckpt.sha256 }, s);
  }

  /** `image_embeddings [1,256,64,64]` + `highResFeats` of an ORIGINAL RGB image (`inputSize` = 1024x1024). */
  async embedImage(img: RgbImage): Promise<ImageEmbedding> {
    const pre = preprocessImageSam2(img, this.config.imageEncoder.imgSize);
    const f = await this.session.embed(pre.tensor);
    return {
      embedding: f.imageEmbed,
      highResFeats: f.highResFeats,
      originalSize: pre.originalSize,
      inputSize: pre.inputSize,
    };
  }

  /** The encoder session (preprocessed `image [1,3,S,S]` -> features), e.g. an `EmbeddingCache`'s embedder. */
  encoder(): Sam2EncoderSession {
    return this.session;
  }

  /** Frees the onnxruntime session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}
