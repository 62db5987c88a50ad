/**
 * The SAM 2.1 image encoder as an ONNX model recorded from the one `sam2ImageEncoder` definition,
 * run on onnxruntime-node. Model I/O in samexporter's SAM 2 encoder signature: input `image` float32
 * `[1,3,S,S]`; outputs `high_res_feats_0 [1,32,S/4,S/4]`, `high_res_feats_1 [1,64,S/8,S/8]`,
 * `image_embed [1,256,S/16,S/16]` (already + `no_mem_embed`).
 */
import { OnnxGraphOps } from '@samtune/onnx';
import type { FloatTensor, SaveOptions, SavedModel, Session, WeightMap } from '@samtune/onnx';
import {
  EmbedInputError,
  openRecordedSession,
  type ImageEncoderSessionOptions,
} from '../image-encoder/onnx-encoder.js';
import type { HieraConfig } from './config.js';
import { sam2ImageEncoder } from './image-encoder.js';
import { prepareSam2EncoderWeights } from './prepare.js';

export const SAM2_ENCODER_INPUT = 'image';
export const SAM2_ENCODER_OUTPUTS = ['high_res_feats_0', 'high_res_feats_1', 'image_embed'] as const;

/** The three SAM 2.1 image features on the host. */
export interface Sam2Embedding {
  /** `[1,256,64,64]` (+ `no_mem_embed`). */
  readonly imageEmbed: FloatTensor;
  /** `[1,32,256,256]`, `[1,64,128,128]`. */
  readonly highResFeats: readonly [FloatTensor, FloatTensor];
}

/** Records the encoder graph (`image` -> `high_res_feats_0`, `high_res_feats_1`, `image_embed`). */
export function recordSam2EncoderGraph(config: HieraConfig, weights: WeightMap): OnnxGraphOps {
  const ops = new OnnxGraphOps(prepareSam2EncoderWeights(config, weights));
  ops.builder.setMetadata('samtune.component', 'sam2_image_encoder');
  ops.builder.setMetadata('samtune.image_encoder_config', JSON.stringify(config));
  const image = ops.input(SAM2_ENCODER_INPUT, [1, config.inChans, config.imgSize, config.imgSize]);
  const f = ops.scoped('image_encoder', () => sam2ImageEncoder(ops, config, image));
  const [hr0, hr1, embed] = SAM2_ENCODER_OUTPUTS;
  ops.output(hr0, f.highResFeats[0]);
  ops.output(hr1, f.highResFeats[1]);
  ops.output(embed, f.imageEmbed);
  return ops;
}

/** The encoder as ONNX model bytes (weights as initializers). */
export function buildSam2EncoderOnnx(config: HieraConfig, weights: WeightMap): Uint8Array {
  return recordSam2EncoderGraph(config, weights).builder.toModelBytes();
}

/** Writes the encoder model to `path` (large initializers to `<path>.data`, see `SaveOptions`). */
export function saveSam2EncoderOnnx(
  config: HieraConfig,
  weights: WeightMap,
  path: string,
  opts?: SaveOptions,
): SavedModel {
  return recordSam2EncoderGraph(config, weights).builder.save(path, opts);
}

/** An onnxruntime session of the SAM 2.1 encoder: build once, `embed` any number of images. */
export class Sam2EncoderSession {
  private constructor(
    private readonly session: Session,
    readonly config: HieraConfig,
  ) {}

  /** Builds the model from checkpoint weights (keys of the official state dict) and opens a session. */
  static async create(
    config: HieraConfig,
    weights: WeightMap,
    opts: ImageEncoderSessionOptions = {},
  ): Promise<Sam2EncoderSession> {
    return new Sam2EncoderSession(await openRecordedSession(recordSam2EncoderGraph(config, weights), opts), config);
  }

  /**
   * @param image `[1,3,S,S]` float32 (S = 1024) from `preprocessImageSam2`.
   * @throws EmbedInputError for an input of the wrong length.
   */
  async embed(image: Float32Array): Promise<Sam2Embedding> {
    const { inChans, imgSize } = this.config;
    const shape = [1, inChans, imgSize, imgSize];
    if (image.length !== inChans * imgSize * imgSize) {
      throw new EmbedInputError(
        `Sam2EncoderSession.embed(image): expected ${inChans * imgSize * imgSize} floats ([${shape.join(',')}]), got ${image.length}`,
      );
    }
    const out = await this.session.run({ [SAM2_ENCODER_INPUT]: { dtype: 'float32', shape, data: image } }, [
      ...SAM2_ENCODER_OUTPUTS,
    ]);
    const [hr0, hr1, embed] = SAM2_ENCODER_OUTPUTS.map((n) => out[n] as FloatTensor) as [
      FloatTensor,
      FloatTensor,
      FloatTensor,
    ];
    return { imageEmbed: embed, highResFeats: [hr0, hr1] };
  }

  /** Frees the native session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}
