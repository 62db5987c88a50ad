/**
 * `OnnxSamModel`: runs an export directory (`model.json` + ONNX files) on onnxruntime-node, with the
 * same embed/predict contract as sam-model's `SamModel` (prompts and masks in ORIGINAL image pixels).
 * Used by `samtune predict --model <dir>` and by quantize-ptq (which loads its own directories).
 */
import {
  floatTensor,
  selectMaskIndex,
  useMultimask,
  type FloatTensor,
  type HostTensor,
  type ImageEmbedding,
  type PredictPrompts,
  type PredictResult,
} from '@samtune/sam-model';
import { createSession, type Session, type SessionOptions } from '@samtune/onnx';
import { normalizeAndPad, resizeLongestSide, type RgbImage } from '@samtune/transforms';
import {
  ENCODER_INPUT,
  ENCODER_OUTPUT,
  ENCODER_RGB_INPUT,
  type DecoderVariant,
  type EncoderVariant,
} from './contract.js';
import { EncoderInputError, ModelCapabilityError, ModelDirError } from './errors.js';
import { checkedModelFile, readModelJson, type ModelFileEntry, type ModelJson } from './model-json.js';
import { decoderFeeds, promptsToFrame, type DecoderFeeds } from './prompts.js';

export interface OnnxSamModelOptions {
  /** onnxruntime session options. */
  readonly session?: SessionOptions;
  /** Encoder model `embed` runs: `images` (host normalise+pad, default) or `rgb` (in-graph). Falls back to the one present. */
  readonly encoder?: EncoderVariant;
  /**
   * `int8`: run the INT8 models that `samtune optimize` wrote (`models.encoder_int8` /
   * `models.decoder_int8`) where the directory has them, FP32 otherwise. Default `fp32`.
   */
  readonly precision?: 'fp32' | 'int8';
}

export interface OnnxPredictOptions {
  /**
   * `true`: the 3 multimask masks (tokens 1..3; multimask decoder only). `false`: token 0.
   * `'auto'`: one mask by the samtune rule (one point and no box: best IoU of 1..3, else token 0).
   * Default: `true` for a multimask decoder (like `SamPredictor`), `'auto'` for a single-mask decoder,
   * which can only return the rule's mask (`false` is refused for a one-point prompt there).
   */
  readonly multimask?: boolean | 'auto';
}

/** Raw decoder outputs: `masks [1,M,H,W]`, `iou_predictions [1,M]`, `low_res_masks [1,M,256,256]`. */
export type DecoderOutputs = Record<'masks' | 'iou_predictions' | 'low_res_masks', FloatTensor>;

/** Rows `[from,to)` of `[1,M,…]` as `[to-from,…]`. */
function rows(t: FloatTensor, from: number, to: number): FloatTensor {
  const n = t.data.length / (t.shape[1] as number);
  return floatTensor(t.data.subarray(from * n, to * n), [to - from, ...t.shape.slice(2)]);
}

export class OnnxSamModel {
  private encoderSession: Promise<Session> | undefined;
  private decoderSession: Promise<Session> | undefined;

  private constructor(
    /** The export directory. */
    readonly dir: string,
    /** Its `model.json`. */
    readonly info: ModelJson,
    private readonly opts: OnnxSamModelOptions,
  ) {}

  /** Opens an export directory (reads and checks `model.json`; sessions open on first use). */
  static async load(dir: string, opts: OnnxSamModelOptions = {}): Promise<OnnxSamModel> {
    return new OnnxSamModel(dir, readModelJson(dir), opts);
  }

  /** Variant of the decoder, or undefined when the directory has none. */
  get decoderVariant(): DecoderVariant | undefined {
    return this.info.models.decoder?.variant;
  }

  /** Encoder variant `embed` uses. */
  get encoderVariant(): EncoderVariant {
    const { encoder, encoder_rgb } = this.info.models;
    const wanted = this.opts.encoder ?? 'images';
    if (wanted === 'rgb' ? encoder_rgb : encoder) return wanted;
    if (encoder_rgb) return 'rgb';
    if (encoder) return 'images';
    throw new ModelDirError(
      `OnnxSamModel.embed(): ${this.dir} has no encoder model (model.json models.encoder / encoder_rgb)`,
    );
  }

  /** The INT8 entry of a component when `precision: 'int8'` and `samtune optimize` wrote one. */
  private int8Entry(component: 'encoder' | 'decoder'): ModelFileEntry | undefined {
    if (this.opts.precision !== 'int8') return undefined;
    return component === 'encoder' ? this.info.models.encoder_int8 : this.info.models.decoder_int8;
  }

  /** Precision of the model file a component runs (`int8` only with `precision: 'int8'` and an INT8 file). */
  precisionOf(component: 'encoder' | 'decoder'): 'fp32' | 'int8' {
    return this.int8Entry(component) && (component === 'decoder' || this.encoderVariant === 'images') ? 'int8' : 'fp32';
  }

  /** A session on a model file of the directory, checked against model.json (`checkedModelFile`). */
  private async open(key: keyof ModelJson['models']): Promise<Session> {
    const entry = this.info.models[key];
    if (!entry) throw new ModelDirError(`OnnxSamModel: ${this.dir} has no ${key} model (model.json models.${key})`);
    return createSession(await checkedModelFile(this.dir, entry, key), this.opts.session);
  }

  /** Runs the encoder on a prepared input: `images [1,3,S,S]` or `input_image [h,w,3]`. */
  async encode(input: HostTensor): Promise<FloatTensor> {
    const variant = this.encoderVariant;
    this.encoderSession ??= this.open(
      variant === 'rgb' ? 'encoder_rgb' : this.int8Entry('encoder') ? 'encoder_int8' : 'encoder',
    );
    const name = variant === 'rgb' ? ENCODER_RGB_INPUT : ENCODER_INPUT;
    return (await (await this.encoderSession).run({ [name]: input }, [ENCODER_OUTPUT]))[ENCODER_OUTPUT] as FloatTensor;
  }

  /** Resizes an ORIGINAL RGB image to the 1024 frame (PIL-exact) and runs the encoder. */
  async embed(img: RgbImage): Promise<ImageEmbedding> {
    const s = this.info.image_size;
    if (img.data.length !== img.width * img.height * 3) {
      throw new EncoderInputError(
        `OnnxSamModel.embed(img): expected RGB data of ${img.width}x${img.height}x3 = ${img.width * img.height * 3} bytes, got ${img.data.length}`,
      );
    }
    const resized = resizeLongestSide(img, s);
    const input: HostTensor =
      this.encoderVariant === 'rgb'
        ? { dtype: 'float32', shape: [resized.height, resized.width, 3], data: Float32Array.from(resized.data) }
        : {
            dtype: 'float32',
            shape: [1, 3, s, s],
            data: normalizeAndPad(
              resized,
              this.info.pixel_mean as [number, number, number],
              this.info.pixel_std as [number, number, number],
              s,
            ),
          };
    return {
      embedding: await this.encode(input),
      originalSize: [img.height, img.width],
      inputSize: [resized.height, resized.width],
    };
  }

  /** `SamModel`-compatible name of `embed`. */
  embedImage(img: RgbImage): Promise<ImageEmbedding> {
    return this.embed(img);
  }

  /** Runs the decoder on inputs of the official signature (see `decoderFeeds`). */
  async decode(feeds: DecoderFeeds): Promise<DecoderOutputs> {
    this.decoderSession ??= this.open(this.int8Entry('decoder') ? 'decoder_int8' : 'decoder');
    return (await (await this.decoderSession).run(feeds)) as DecoderOutputs;
  }

  /**
   * Masks for prompts in ORIGINAL image pixels (like `SamModel.predict`).
   * @returns `lowResMasks [M,256,256]`, `iouPredictions [M]`, `masks [M,H,W]` logits; M = 3 or 1
   * @throws ModelCapabilityError when the decoder variant cannot give what `opts.multimask` asks
   */
  async predict(emb: ImageEmbedding, prompts: PredictPrompts, opts: OnnxPredictOptions = {}): Promise<PredictResult> {
    const variant = this.decoderVariant;
    const ambiguous = useMultimask({ hasBox: prompts.box !== undefined, numPoints: prompts.points?.length ?? 0 });
    const mode = opts.multimask ?? (variant === 'single_mask' ? 'auto' : true);
    if (variant === 'single_mask' && (mode === true || (mode === false && ambiguous))) {
      throw new ModelCapabilityError(
        `OnnxSamModel.predict(opts.multimask=${String(mode)}): ${this.dir} has a single-mask decoder, which returns the rule's mask ` +
          `(${ambiguous ? 'best IoU of tokens 1..3 for this one-point prompt' : 'token 0'}); export without --single-mask for ${mode === true ? '3 masks' : 'token 0'}`,
      );
    }
    const feeds = decoderFeeds(
      emb.embedding,
      promptsToFrame(prompts, emb.originalSize, this.info.image_size),
      emb.originalSize,
    );
    const out = await this.decode(feeds);
    let [from, to] = [0, 1];
    if (variant === 'multimask') {
      if (mode === true) [from, to] = [1, out.iou_predictions.shape[1] as number];
      else if (mode === 'auto' && ambiguous) from = 1 + selectMaskIndex(out.iou_predictions.data.subarray(1));
      to = mode === true ? to : from + 1;
    }
    return {
      lowResMasks: rows(out.low_res_masks, from, to),
      iouPredictions: rows(out.iou_predictions, from, to),
      masks: rows(out.masks, from, to),
    };
  }

  /** Frees the onnxruntime sessions. */
  async release(): Promise<void> {
    const sessions = [this.encoderSession, this.decoderSession];
    this.encoderSession = undefined;
    this.decoderSession = undefined;
    for (const s of sessions) if (s) await (await s).release();
  }
}
