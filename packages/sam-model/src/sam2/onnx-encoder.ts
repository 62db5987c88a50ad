/**
 * The SAM 2.1 image encoder as an ONNX model recorded from the one `sam2ImageEncoder` definition,
 * run on onnxruntime-node. Model I/O in samexporter's SAM 2 encoder signature: input `image` float32
 * `[1,3,S,S]`; outputs `high_res_feats_0 [1,32,S/4,S/4]`, `high_res_feats_1 [1,64,S/8,S/8]`,
 * `image_embed [1,256,S/16,S/16]` (already + `no_mem_embed`).
 */
import { OnnxGraphOps } from '@samtune/onnx';
import type { SaveOptions, SavedModel, Session } from '@samtune/onnx';
import type { FloatTensor, WeightMap } from '@samtune/tensor';
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
/** The optional raw neck levels 0/1 (before `conv_s0`/`conv_s1`), see `Sam2EncoderOptions.rawHighRes`. */
export const SAM2_RAW_LEVEL_OUTPUTS = ['backbone_fpn_0', 'backbone_fpn_1'] as const;

/** Options of the SAM 2.1 encoder graph. */
export interface Sam2EncoderOptions {
  /**
   * Also output neck levels 0/1 BEFORE `conv_s0`/`conv_s1` (`backbone_fpn_0 [1,256,256,256]`,
   * `backbone_fpn_1 [1,256,128,128]`, 64 + 16 MiB per image): what a decoder training step needs
   * when `conv_s0`/`conv_s1` are trained (the official step computes them from these in the graph).
   */
  readonly rawHighRes?: boolean;
}

/** The three SAM 2.1 image features on the host. */
export interface Sam2Embedding {
  /** `[1,256,64,64]` (+ `no_mem_embed`). */
  readonly imageEmbed: FloatTensor;
  /** `[1,32,256,256]`, `[1,64,128,128]`. */
  readonly highResFeats: readonly [FloatTensor, FloatTensor];
  /** With `rawHighRes`: neck levels 0/1 before `conv_s0`/`conv_s1`, `[1,256,256,256]`, `[1,256,128,128]`. */
  readonly backboneFpn?: readonly [FloatTensor, FloatTensor];
}

/**
 * Records the encoder graph (`image` -> `high_res_feats_0`, `high_res_feats_1`, `image_embed`; with
 * `rawHighRes` also `backbone_fpn_0`, `backbone_fpn_1`).
 */
export function recordSam2EncoderGraph(
  config: HieraConfig,
  weights: WeightMap,
  opts: Sam2EncoderOptions = {},
): OnnxGraphOps {
  const ops = new OnnxGraphOps(prepareSam2EncoderWeights(config, weights));
  ops.builder.setMetadata('samtune.component', 'sam2_image_encoder');
  ops.builder.setMetadata('samtune.image_encoder_config', JSON.stringify(config));
  const image = ops.input(SAM2_ENCODER_INPUT, [1, config.inChans, config.imgSize, config.imgSize]);
  const f = ops.scoped('image_encoder', () => sam2ImageEncoder(ops, config, image));
  const [hr0, hr1, embed] = SAM2_ENCODER_OUTPUTS;
  ops.output(hr0, f.highResFeats[0]);
  ops.output(hr1, f.highResFeats[1]);
  ops.output(embed, f.imageEmbed);
  if (opts.rawHighRes) SAM2_RAW_LEVEL_OUTPUTS.forEach((name, i) => ops.output(name, f.backboneFpn[i]!));
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
    private readonly rawHighRes: boolean,
  ) {}

  /** Builds the model from checkpoint weights (keys of the official state dict) and opens a session. */
  static async create(
    config: HieraConfig,
    weights: WeightMap,
    opts: ImageEncoderSessionOptions & Sam2EncoderOptions = {},
  ): Promise<Sam2EncoderSession> {
    const session = await openRecordedSession(recordSam2EncoderGraph(config, weights, opts), opts);
    return new Sam2EncoderSession(session, config, opts.rawHighRes ?? false);
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
    const names = [...SAM2_ENCODER_OUTPUTS, ...(this.rawHighRes ? SAM2_RAW_LEVEL_OUTPUTS : [])];
    const out = await this.session.run({ [SAM2_ENCODER_INPUT]: { dtype: 'float32', shape, data: image } }, names);
    const [hr0, hr1, embed, raw0, raw1] = names.map((n) => out[n] as FloatTensor);
    return {
      imageEmbed: embed!,
      highResFeats: [hr0!, hr1!],
      ...(raw0 && raw1 ? { backboneFpn: [raw0, raw1] as const } : {}),
    };
  }

  /** Frees the native session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}
