/**
 * The server's use of one `SamModel`: embeddings by content id (LRU cache, shared in-flight work) and
 * predictions returned as COCO RLE masks. All model work goes through one `SerialQueue` (one encoder
 * session, one tfjs predictor). No model logic here: `@samtune/sam-model` and `@samtune/transforms`
 * do the work.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectMaskIndex, useMultimask, type SamModel } from '@samtune/sam-model';
import { ImageReadError, logitsToMask, readImage, type RgbImage } from '@samtune/transforms';
import { EmbeddingCache, type CachedEmbedding } from './embedding-cache.js';
import { InvalidFieldError, UnknownEmbeddingError } from './errors.js';
import { maskToCocoRle, rleArea, type CocoRle } from './rle.js';
import { SerialQueue } from './serial-queue.js';
import { checkPromptRange, type PredictRequest } from './validate.js';

/** `POST /api/embed` reply. */
export interface EmbedReply {
  /** Embedding id for `POST /api/predict`: the first 16 hex digits of the image bytes' SHA-256. */
  readonly id: string;
  /** Original image size in pixels (the frame of prompts and masks). */
  readonly width: number;
  readonly height: number;
  /** Image name under `--images`, when embedded by name. */
  readonly image?: string;
  /** True when the embedding was already cached. */
  readonly cached: boolean;
}

/** One mask of a `POST /api/predict` reply: COCO uncompressed RLE at the original size, and its area. */
export interface MaskReply extends CocoRle {
  readonly area: number;
}

/** `POST /api/predict` reply. */
export interface PredictReply {
  readonly id: string;
  readonly width: number;
  readonly height: number;
  /** Whether three masks were asked of the decoder. */
  readonly multimask: boolean;
  /** Predicted IoU per mask. */
  readonly iou: readonly number[];
  /** Masks at the original size (logits > the model's mask threshold). */
  readonly masks: readonly MaskReply[];
  /** Index of the highest predicted IoU (the mask to show). */
  readonly best: number;
}

const contentId = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

/** Decodes image bytes with `readImage` through a temporary file (transforms owns decoding). */
async function decodeBytes(bytes: Uint8Array): Promise<RgbImage> {
  const dir = await mkdtemp(join(tmpdir(), 'samtune-server-'));
  try {
    const file = join(dir, 'upload');
    await writeFile(file, bytes);
    return await readImage(file);
  } catch (err) {
    if (err instanceof ImageReadError)
      throw new InvalidFieldError(
        'body',
        `expected image bytes (JPEG, PNG, WebP, TIFF, …), got ${bytes.length} bytes that do not decode: ${err.reason}`,
      );
    throw err;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export class ModelService {
  readonly cache: EmbeddingCache;
  /** Serialises the model's work; `pending` is the number of embed/predict tasks queued or running. */
  readonly queue = new SerialQueue();

  constructor(
    readonly model: SamModel,
    cacheSize = 16,
  ) {
    this.cache = new EmbeddingCache(cacheSize);
  }

  /** Embeds the image file `path` (reported as `name`), or returns the cached embedding of the same bytes. */
  async embedFile(path: string, name: string): Promise<EmbedReply> {
    const bytes = await readFile(path);
    return this.embed(contentId(bytes), name, () => readImage(path));
  }

  /** Embeds uploaded image bytes, or returns the cached embedding of the same bytes. */
  async embedBytes(bytes: Uint8Array): Promise<EmbedReply> {
    if (bytes.length === 0) throw new InvalidFieldError('body', 'expected image bytes, got an empty body');
    return this.embed(contentId(bytes), undefined, () => decodeBytes(bytes));
  }

  /** The cached embedding `id`. @throws UnknownEmbeddingError (404) when it is not cached. */
  lookup(id: string): CachedEmbedding {
    const entry = this.cache.get(id);
    if (!entry) {
      throw new UnknownEmbeddingError(
        `id: no embedding '${id}' in the cache (never embedded, or dropped from the ${this.cache.capacity} most recent); POST /api/embed the image again`,
      );
    }
    return entry;
  }

  /** Masks for `req`'s prompts (ORIGINAL image pixels). @throws UnknownEmbeddingError, InvalidFieldError. */
  async predict(req: PredictRequest): Promise<PredictReply> {
    const entry = this.lookup(req.id);
    const [height, width] = entry.embedding.originalSize;
    checkPromptRange(req, width, height);
    const multimask = req.multimask ?? useMultimask({ hasBox: req.box !== undefined, numPoints: req.points.length });
    const res = await this.queue.run(() =>
      this.model.predict(
        entry.embedding,
        {
          ...(req.points.length > 0 ? { points: req.points, labels: req.labels } : {}),
          ...(req.box ? { box: req.box } : {}),
        },
        { multimask, returnMasks: true },
      ),
    );
    const iou = Array.from(res.iouPredictions.data);
    const plane = width * height;
    const logits = res.masks?.data ?? new Float32Array(0);
    const masks = iou.map((_, m) => {
      const rle = maskToCocoRle(
        logitsToMask(logits.subarray(m * plane, (m + 1) * plane), width, height, this.model.config.maskThreshold),
      );
      return { ...rle, area: rleArea(rle) };
    });
    return { id: req.id, width, height, multimask, iou, masks, best: selectMaskIndex(iou) };
  }

  private async embed(id: string, image: string | undefined, decode: () => Promise<RgbImage>): Promise<EmbedReply> {
    const { entry, cached } = await this.cache.getOrCreate(id, async () => {
      const img = await decode();
      const embedding = await this.queue.run(() => this.model.embedImage(img));
      return { id, embedding, ...(image === undefined ? {} : { image }) };
    });
    const [height, width] = entry.embedding.originalSize;
    return { id, width, height, ...(image === undefined ? {} : { image }), cached };
  }
}
