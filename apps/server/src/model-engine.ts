/**
 * The model's work, run inside the model worker thread (see `model-worker.ts`): image decoding with a
 * pixel limit, embeddings by content id in an LRU cache, and predictions returned as COCO RLE masks.
 * No model logic here: `@samtune/sam-model` (a checkpoint) or `@samtune/export` (an exported ONNX
 * directory) embed and predict, `@samtune/transforms` decodes and thresholds.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { OnnxSamModel, openSam2PromptModel, recordDecoderGraph } from '@samtune/export';
import {
  checkpointFamily,
  initBackend,
  MASK_DECODER_PREFIX,
  readBaseCheckpointRef,
  SamModel,
  selectMaskIndex,
  useMultimask,
  type ImageEmbedding,
  type MaskRle,
  type PredictPrompts,
  type PredictResult,
  type Sam2Config,
  type SamConfig,
  type WeightMap,
} from '@samtune/sam-model';
import { readSafetensors } from '@samtune/tensor-files';
import { ImageReadError, ImageTooLargeError, logitsToMask, readImage, type RgbImage } from '@samtune/transforms';
import { EmbeddingCache } from './embedding-cache.js';
import { singleDecoderFile, splitDecoderFile, type DecoderFile, type DecoderForm } from './page-decoder.js';
import { toFloat16 } from './float16.js';
import { InvalidFieldError, PayloadTooLargeError, ServerConfigError, UnknownEmbeddingError } from './errors.js';
import { maskToCocoRle, rleArea } from './rle.js';
import type { EmbedReply, PredictReply } from './schemas.js';
import { checkPromptRange, type PredictRequest } from './validate.js';

/** Which model the server serves: a checkpoint (tfjs decoder) or an export directory (ONNX, FP32 or INT8). */
export type ModelSpec =
  | { readonly checkpoint: string }
  | { readonly exportDir: string; readonly int8?: boolean }
  /** A deterministic random model of a preset: benchmarks and tests only. */
  | { readonly seeded: string };

/** What `GET /api/health` reports about the model. */
export interface ModelInfo {
  readonly model: string;
  readonly config: SamConfig | Sam2Config;
  /** `tfjs-<backend>` for a checkpoint, `onnxruntime` for an export directory. */
  readonly backend: string;
  readonly checkpoint: { readonly path: string; readonly sha256: string };
  readonly engine: 'checkpoint' | 'onnx';
  /** Precision of the encoder and decoder files run (`int8` only for `--int8` with INT8 files present). */
  readonly precision: { readonly encoder: 'fp32' | 'int8'; readonly decoder: 'fp32' | 'int8' };
  /**
   * Whether the labelling page can decode clicks itself (`GET /api/decoder.onnx`, SAM 1's decoder
   * signature); when not (SAM 2.1), the page sends every click to `POST /api/predict`, and `reason` says why.
   */
  readonly pageDecoder: { readonly available: boolean; readonly reason: string | null };
}

/** The page decodes in the browser. */
const PAGE_DECODES = { available: true, reason: null } as const;

/** A prediction with its masks as COCO RLE (`rle`) or as logits at the original size (`masks`). */
type RunnerResult = PredictResult & { readonly rle?: readonly MaskRle[] };

/** The two calls the engine needs from either model kind. */
interface Runner {
  readonly info: ModelInfo;
  readonly maskThreshold: number;
  embed(img: RgbImage): Promise<ImageEmbedding>;
  /** Masks at the original size: COCO RLE (`rle`, checkpoint engines) or logits (`masks`, export). */
  predict(emb: ImageEmbedding, prompts: PredictPrompts, multimask: boolean): Promise<RunnerResult>;
  /** The decoder the page runs: an ONNX model with the official SAM decoder signature (bytes). */
  decoderOnnx(): Promise<Uint8Array>;
  /** The page's split decoder (`page-decoder.ts`; checkpoint engines only). */
  splitDecoder?(): DecoderFile;
  /** Replaces the mask-decoder weights (checkpoint engines only); undefined restores the loaded ones. */
  setDecoder?(weights: WeightMap | undefined): Promise<void>;
  /** Names of the mask-decoder tensors (checkpoint engines). */
  decoderKeys(): Iterable<string>;
  release(): Promise<void>;
}

/**
 * A checkpoint's decoder as @samtune/export records it (`recordDecoderGraph`, multimask: the I/O of
 * the decoder.onnx `samtune export` writes), serialized in memory, in its `fast` form (re-associated
 * cross-attentions, channels-last mask head: the same values with fewer multiply-adds, for the page's
 * wasm run). Not re-verified here: the export's tfjs verification takes ~30 s on 2 cores; the fast
 * form's values are tested against the official form in sam-model's decoder-graph tests.
 */
function decoderBytes(model: SamModel): Uint8Array {
  return recordDecoderGraph(model.config, model.weights, { variant: 'multimask', fast: true }).builder.toModelBytes();
}

async function samRunner(model: SamModel): Promise<Runner> {
  const backend = await initBackend();
  // the loaded decoder (version v0): tensors are replaced, never written into, so these stay intact
  const loaded = new Map([...model.weights].filter(([k]) => k.startsWith(MASK_DECODER_PREFIX)));
  return {
    info: {
      model: model.config.name,
      config: model.config,
      backend: backend.name,
      checkpoint: { path: model.source.path, sha256: model.source.sha256 },
      engine: 'checkpoint',
      precision: { encoder: 'fp32', decoder: 'fp32' },
      pageDecoder: PAGE_DECODES,
    },
    maskThreshold: model.config.maskThreshold,
    embed: (img) => model.embedImage(img),
    // The engine thresholds and run-length encodes (in the ORT graph on the `ort` engine).
    predict: async (emb, prompts, multimask) => await model.predict(emb, prompts, { multimask, maskOutput: 'rle' }),
    decoderOnnx: async () => decoderBytes(model),
    splitDecoder: () => splitDecoderFile(model.config, model.weights),
    setDecoder: (weights) => model.updateDecoderWeights(weights ?? loaded),
    decoderKeys: () => loaded.keys(),
    release: () => model.release(),
  };
}

/**
 * A SAM 2.1 checkpoint (`openSam2PromptModel`: Hiera encoder and `Sam2OrtDecoder` on onnxruntime).
 * The labelling page's in-browser decoder has SAM 1's ONNX signature and reads only the 64x64
 * embedding, so `pageDecoder` tells the page to send its clicks and boxes to `POST /api/predict`.
 */
async function sam2Runner(checkpoint: string): Promise<Runner> {
  const backend = await initBackend();
  const model = await openSam2PromptModel(checkpoint);
  const noPageDecoder = `SAM 2.1 (${model.config.name}): the page's in-browser decoder has SAM 1's ONNX signature and no high-res features, so clicks are decoded by the server (POST /api/predict)`;
  return {
    info: {
      model: model.config.name,
      config: model.config,
      backend: backend.name,
      checkpoint: { path: model.path, sha256: model.sha256 },
      engine: 'checkpoint',
      precision: { encoder: 'fp32', decoder: 'fp32' },
      pageDecoder: { available: false, reason: noPageDecoder },
    },
    maskThreshold: model.maskThreshold,
    embed: (img) => model.embed(img),
    predict: (emb, prompts, multimask) => model.predict(emb, prompts, multimask),
    decoderOnnx: async () => {
      throw new ServerConfigError(`decoderOnnx(): no page decoder for ${model.path}: ${noPageDecoder}`);
    },
    decoderKeys: () => [], // no hot swap (`setDecoder`) for SAM 2.1 yet: fine-tuning from the page is SAM 1 only
    release: () => model.release(),
  };
}

async function onnxRunner(dir: string, int8: boolean): Promise<Runner> {
  const model = await OnnxSamModel.load(dir, int8 ? { precision: 'int8' } : {});
  const precision = { encoder: model.precisionOf('encoder'), decoder: model.precisionOf('decoder') };
  if (int8 && precision.encoder === 'fp32' && precision.decoder === 'fp32')
    throw new ServerConfigError(
      `--int8: expected encoder.int8.onnx or decoder.int8.onnx listed in ${dir}/model.json (models.encoder_int8 / decoder_int8), got neither; run samtune optimize --model ${dir} first`,
    );
  return {
    info: {
      model: model.info.model,
      config: model.info.config,
      backend: 'onnxruntime',
      checkpoint: model.info.checkpoint,
      engine: 'onnx',
      precision,
      pageDecoder: PAGE_DECODES,
    },
    maskThreshold: model.info.mask_threshold,
    embed: (img) => model.embed(img),
    predict: (emb, prompts, multimask) => model.predict(emb, prompts, { multimask }),
    // the decoder file the server runs (INT8 with --int8 where the directory has one)
    decoderOnnx: async () => {
      const entry = precision.decoder === 'int8' ? model.info.models.decoder_int8 : model.info.models.decoder;
      if (!entry)
        throw new ServerConfigError(
          `decoderOnnx(): ${dir}/model.json lists no decoder (models.decoder), so the page cannot decode`,
        );
      return new Uint8Array(await readFile(join(dir, entry.file)));
    },
    decoderKeys: () => [],
    release: () => model.release(),
  };
}

/** Opens the model of `spec`. */
async function openRunner(spec: ModelSpec): Promise<Runner> {
  if ('checkpoint' in spec)
    return checkpointFamily(spec.checkpoint) === 'sam2'
      ? sam2Runner(spec.checkpoint)
      : samRunner(await SamModel.load(spec.checkpoint));
  if ('seeded' in spec) return samRunner(SamModel.seeded(spec.seeded));
  return onnxRunner(spec.exportDir, spec.int8 === true);
}

/** Largest decoder-only checkpoint read by `setDecoder` (SAM's decoder is ~16 MB in float32). */
const MAX_DECODER_FILE_BYTES = 64 * 2 ** 20;

/** An embedding as the page receives it (`GET /api/embedding/:id`). */
export interface EmbeddingPayload {
  readonly dtype: 'float16' | 'float32';
  /** `[1,256,64,64]`. */
  readonly shape: number[];
  /** `(H,W)` of the original image. */
  readonly originalSize: number[];
  /** `(h,w)` of the resized image inside the 1024 square. */
  readonly inputSize: number[];
  /** The values, little-endian (`Uint16Array` of float16 bits or `Float32Array`). */
  readonly bytes: Uint16Array | Float32Array;
}

const unknownEmbedding = (id: string, capacity: number): UnknownEmbeddingError =>
  new UnknownEmbeddingError(
    `id: no embedding '${id}' in the cache (never embedded, or dropped from the ${capacity} most recent); POST /api/embed the image again`,
  );

/** Embedding id: the first 16 hex digits of the SHA-256 of the image file's bytes. */
export const contentId = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

/** Options of `ModelEngine.open`. */
export interface EngineOptions {
  /** Embeddings kept (4 MiB each; SAM 2.1: 16 MiB with the high-res levels). */
  readonly cacheSize: number;
  /** Largest `width * height` decoded; larger images are refused from their header (413). */
  readonly maxPixels: number;
}

export class ModelEngine {
  readonly cache: EmbeddingCache;
  /** The page's decoder per form, made once per served weights. */
  private readonly decoders = new Map<DecoderForm, Promise<DecoderFile>>();

  private constructor(
    private readonly runner: Runner,
    private readonly opts: EngineOptions,
  ) {
    this.cache = new EmbeddingCache(opts.cacheSize);
  }

  static async open(spec: ModelSpec, opts: EngineOptions): Promise<ModelEngine> {
    return new ModelEngine(await openRunner(spec), opts);
  }

  get info(): ModelInfo {
    return this.runner.info;
  }

  /** Embeds an image file (`name` under `--images`), or answers from the cache for the same bytes. */
  async embedFile(path: string, name: string): Promise<EmbedReply> {
    return this.embedBytes(new Uint8Array(await readFile(path)), name);
  }

  /** Embeds encoded image bytes, or answers from the cache for the same bytes. */
  async embedBytes(bytes: Uint8Array, name?: string): Promise<EmbedReply> {
    if (bytes.length === 0) throw new InvalidFieldError('body', 'expected image bytes, got an empty body');
    const id = contentId(bytes);
    const { entry, cached } = await this.cache.getOrCreate(id, async () => {
      const embedding = await this.runner.embed(await this.decode(bytes));
      return { id, embedding, ...(name === undefined ? {} : { image: name }) };
    });
    const [height, width] = entry.embedding.originalSize;
    return { id, width, height, ...(name === undefined ? {} : { image: name }), cached };
  }

  /** Masks for `req`'s prompts (ORIGINAL image pixels). @throws UnknownEmbeddingError, InvalidFieldError. */
  async predict(req: PredictRequest): Promise<PredictReply> {
    const entry = this.cache.get(req.id);
    if (!entry) throw unknownEmbedding(req.id, this.cache.capacity);
    const [height, width] = entry.embedding.originalSize;
    checkPromptRange(req, width, height);
    const multimask = req.multimask ?? useMultimask({ hasBox: req.box !== undefined, numPoints: req.points.length });
    const prompts: PredictPrompts = {
      ...(req.points.length > 0 ? { points: req.points, labels: req.labels } : {}),
      ...(req.box ? { box: req.box } : {}),
    };
    const res = await this.runner.predict(entry.embedding, prompts, multimask);
    const iou = Array.from(res.iouPredictions.data);
    if (res.rle) {
      const masks = res.rle.map((r) => ({
        size: [r.size[0], r.size[1]] as [number, number],
        counts: r.counts,
        area: r.area,
      }));
      return { id: req.id, width, height, multimask, iou, masks, best: selectMaskIndex(iou) };
    }
    const plane = width * height;
    const logits = res.masks?.data ?? new Float32Array(0);
    const masks = iou.map((_, m) => {
      const rle = maskToCocoRle(
        logitsToMask(logits.subarray(m * plane, (m + 1) * plane), width, height, this.runner.maskThreshold),
      );
      return { size: [rle.size[0], rle.size[1]] as [number, number], counts: [...rle.counts], area: rleArea(rle) };
    });
    return { id: req.id, width, height, multimask, iou, masks, best: selectMaskIndex(iou) };
  }

  /**
   * The cached embedding of `id` for the page: float32, or float16 (half the bytes), with the sizes
   * the decoder's prompt transform needs. @throws UnknownEmbeddingError
   */
  embedding(id: string, dtype: 'float16' | 'float32'): EmbeddingPayload {
    const entry = this.cache.get(id);
    if (!entry) throw unknownEmbedding(id, this.cache.capacity);
    const { embedding, originalSize, inputSize } = entry.embedding;
    const data = embedding.data as Float32Array;
    const bytes = dtype === 'float16' ? toFloat16(data) : Float32Array.from(data);
    return { dtype, shape: [...embedding.shape], originalSize: [...originalSize], inputSize: [...inputSize], bytes };
  }

  /**
   * Serves the mask decoder of the fine-tuned checkpoint `file` (a run's `best.safetensors`: the
   * `mask_decoder.*` tensors and a reference to the base), or the loaded one again (`undefined`). The
   * worker runs one job at a time, so requests before this see the old weights and requests after it
   * the new ones; the embedding cache is kept (the encoder is frozen). The file must name this
   * model's checkpoint as its base (SHA-256) and hold every decoder tensor with its shape.
   * @throws ServerConfigError for an export-directory model or a file that does not fit
   */
  async setDecoder(file: string | undefined): Promise<void> {
    const set = this.runner.setDecoder;
    if (!set)
      throw new ServerConfigError(
        `setDecoder(file): expected a served SAM 1 checkpoint, whose decoder can be replaced, got ${this.info.engine === 'onnx' ? 'an export directory' : `the SAM 2.1 checkpoint ${this.info.model}`} (${this.info.checkpoint.path})`,
      );
    let weights: WeightMap | undefined;
    if (file !== undefined) {
      const size = (await stat(file)).size;
      if (size > MAX_DECODER_FILE_BYTES)
        throw new ServerConfigError(
          `setDecoder(file): expected at most ${MAX_DECODER_FILE_BYTES} bytes (a decoder-only checkpoint), got ${size} bytes in ${file}`,
        );
      const { tensors, metadata } = readSafetensors(file);
      const base = readBaseCheckpointRef(metadata, file);
      if (base?.sha256 !== this.info.checkpoint.sha256)
        throw new ServerConfigError(
          `setDecoder(file): expected ${file} to be fine-tuned from the served checkpoint (sha256 ${this.info.checkpoint.sha256.slice(0, 12)}), got base ${base ? base.sha256.slice(0, 12) : 'none (a complete checkpoint)'}`,
        );
      weights = new Map([...tensors].filter(([k]) => k.startsWith(MASK_DECODER_PREFIX))) as WeightMap;
      const expected = [...this.runner.decoderKeys()];
      const missing = expected.filter((k) => !weights?.has(k));
      if (missing.length > 0 || weights.size !== expected.length)
        throw new ServerConfigError(
          `setDecoder(file): expected the ${expected.length} mask-decoder tensors of the served model in ${file}, got ${weights.size}${missing.length ? ` (missing ${missing.slice(0, 3).join(', ')})` : ''}`,
        );
    }
    await set.call(this.runner, weights);
    this.decoders.clear();
  }

  /**
   * The decoder the page runs in `form` (`page-decoder.ts`), made once per served weights.
   * @throws ServerConfigError for `split` on an engine without it (an export directory, SAM 2.1)
   */
  decoderOnnx(form: DecoderForm = 'single'): Promise<DecoderFile> {
    let d = this.decoders.get(form);
    if (!d) {
      const { runner } = this;
      d = (async () => {
        if (form === 'single') return singleDecoderFile(await runner.decoderOnnx());
        if (!runner.splitDecoder)
          throw new ServerConfigError(
            `decoderOnnx(form): expected 'single' for this model (${runner.info.engine} ${runner.info.model}), got 'split' (only a SAM checkpoint's decoder is split)`,
          );
        return runner.splitDecoder();
      })();
      this.decoders.set(form, d);
      d.catch(() => this.decoders.delete(form));
    }
    return d;
  }

  release(): Promise<void> {
    return this.runner.release();
  }

  private async decode(bytes: Uint8Array): Promise<RgbImage> {
    try {
      return await readImage(bytes, { maxPixels: this.opts.maxPixels });
    } catch (err) {
      if (err instanceof ImageTooLargeError) throw new PayloadTooLargeError(`body: ${err.reason}`);
      if (err instanceof ImageReadError)
        throw new InvalidFieldError(
          'body',
          `expected image bytes (JPEG, PNG, WebP, TIFF, …), got ${bytes.length} bytes that do not decode: ${err.reason}`,
        );
      throw err;
    }
  }
}
