/**
 * On-disk cache of image embeddings. The image encoder is frozen during fine-tuning, so an image's
 * embedding depends only on (encoder weights, image bytes, pre-processing): computed once, reused by
 * every epoch and every later run (and by `eval`).
 *
 * Key: `sha256(encoderKey | sha256(image file) | PREPROCESS_VERSION)`. `encoderKey` is normally
 * `imageEncoderKey(config, weights)`, a hash of the image-encoder weights, so an official checkpoint
 * and a fine-tuned one (same frozen encoder) share their embeddings.
 * File: `<dir>/<key>.safetensors` with `image_embeddings [1,256,64,64]` float32 (SAM 2.1, `family:
 * 'sam2'`: also `high_res_feats.0 [1,32,256,256]` and `high_res_feats.1 [1,64,128,128]`, the key
 * built with `PREPROCESS_VERSION_SAM2`, so SAM 1 and SAM 2.1 entries never collide) and metadata
 * (`samtune.embedding.*`: key, image sha256, original/input size `(H,W)`, pre-processing version).
 * Writes are atomic (temp file + rename, `writeSafetensors`); a file that does not parse or whose
 * metadata disagrees is treated as a miss and rewritten, so an interrupted fill resumes cleanly and a
 * half-written file is never used.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  embeddingTensors,
  highResFeatsOf,
  isIgnoredKey,
  isOptionalKey,
  isSam2EncoderKey,
  readSafetensors,
  sha256File,
  toFloat32,
  writeSafetensors,
  defaultCacheDir,
} from '@samtune/sam-model';
import type { FloatTensor, Sam2Config, Sam2Embedding, SamConfig, WeightMap } from '@samtune/sam-model';
import { ImageReadError, preprocessImage, preprocessImageSam2, readImage } from '@samtune/transforms';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Version of the image pre-processing (resize longest side PIL-bilinear, normalise, pad). Bump on change. */
/** The default embedding cache directory: `<samtune cache>/embeddings` (see sam-model's `defaultCacheDir`). */
export function defaultEmbeddingCacheDir(): string {
  return join(defaultCacheDir(), 'embeddings');
}

export const PREPROCESS_VERSION = 'samtune-preprocess-v1:pil-bilinear-1024,sam-mean-std,pad-br';
/** Version of SAM 2.1's pre-processing (stretch to 1024, float antialiased bilinear, ImageNet mean/std). */
export const PREPROCESS_VERSION_SAM2 = 'samtune-preprocess-sam2-v1:torch-bilinear-aa-stretch-1024,imagenet-mean-std';

/** Which model family's features a cache holds. */
export type EmbeddingFamily = 'sam' | 'sam2';

/** Tensor name inside a cache file (the fixtures' name). */
export const EMBEDDING_TENSOR = 'image_embeddings';

/** Anything that embeds a pre-processed image (e.g. `ImageEncoderSession`). */
export interface ImageEmbedder {
  /** `images [1,3,1024,1024]` normalised + padded → `[1,256,64,64]`. */
  embed(images: Float32Array): Promise<FloatTensor>;
}

/** A SAM 2.1 encoder (e.g. `Sam2EncoderSession`): the 64x64 embedding and the two high-res levels. */
export interface Sam2ImageEmbedder {
  /** `image [1,3,1024,1024]` from `preprocessImageSam2`. */
  embed(image: Float32Array): Promise<Sam2Embedding>;
}

type AnyEmbedder = ImageEmbedder | Sam2ImageEmbedder;

/** A cached (or freshly computed) embedding. */
export interface CachedEmbedding {
  /** `[1,256,64,64]` float32. */
  readonly embedding: FloatTensor;
  /** SAM 2.1: `high_res_feats` `[1,32,256,256]`, `[1,64,128,128]`; absent for SAM 1. */
  readonly highResFeats?: readonly [FloatTensor, FloatTensor];
  /** `(H,W)` of the original image. */
  readonly originalSize: readonly [number, number];
  /** `(h,w)` of the resized image inside the 1024 frame. */
  readonly inputSize: readonly [number, number];
  /** The cache file. */
  readonly path: string;
  /** True when it was read from disk, false when computed now. */
  readonly hit: boolean;
}

/** Progress of `fill`. */
export interface FillProgress {
  readonly done: number;
  readonly total: number;
  /** Images found in the cache so far. */
  readonly hits: number;
  /** Images embedded so far. */
  readonly computed: number;
  readonly elapsedSeconds: number;
  /** Estimated seconds left, from the time per computed image (NaN before the first one). */
  readonly etaSeconds: number;
}

/** Result of `fill`. */
export interface FillStats {
  readonly total: number;
  readonly hits: number;
  readonly computed: number;
  /** Wall time of the whole fill. */
  readonly seconds: number;
  /** Wall time spent computing (reading, pre-processing, encoding, writing) the misses. */
  readonly computeSeconds: number;
  /** Images that could not be read or decoded (truncated, corrupt), with `skipUnreadable`. */
  readonly skipped: readonly { readonly imagePath: string; readonly message: string }[];
}

/** Options of `fill`. */
export interface FillOptions {
  /**
   * Report an image that cannot be read or decoded (truncated JPEG, corrupt file) in
   * `FillStats.skipped` and go on, instead of throwing (default false). Encoder failures still throw.
   */
  readonly skipUnreadable?: boolean;
}

/** Thrown when an image cannot be embedded (the message names the image). */
export class EmbeddingCacheError extends SamtuneError {
  readonly code: string = 'embedding-cache';
  readonly kind: ErrorKind = 'input';
  override readonly name = 'EmbeddingCacheError';
  constructor(
    message: string,
    /** True when the image file itself cannot be read or decoded (not the encoder). */
    readonly unreadableImage = false,
  ) {
    super(message);
  }
}

/**
 * Hash of the image encoder: its config and every `image_encoder.*` tensor (name, shape, float32
 * bytes; keys the encoder ignores or does not need are skipped). SAM 2.1 also hashes what its
 * features depend on outside `image_encoder.*`: `sam_mask_decoder.conv_s0/conv_s1` and
 * `no_mem_embed` (so a fine-tune that changes `conv_s*` gets its own entries). Lower-case hex SHA-256.
 */
export function imageEncoderKey(config: SamConfig | Sam2Config, weights: WeightMap): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(config.imageEncoder));
  const sam2 = 'family' in config && config.family === 'sam2';
  const keys = [...weights.keys()]
    .filter((k) =>
      sam2 ? isSam2EncoderKey(k) : k.startsWith('image_encoder.') && !isIgnoredKey(k) && !isOptionalKey(k),
    )
    .sort();
  for (const k of keys) {
    const t = toFloat32(weights.get(k) as NonNullable<ReturnType<WeightMap['get']>>);
    h.update(`${k}[${t.shape.join(',')}]`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}

export interface EmbeddingCacheOptions {
  /** Cache directory (created on demand). */
  readonly dir: string;
  /** Encoder identity, normally `imageEncoderKey(config, weights)`. */
  readonly encoderKey: string;
  /** The encoder, or a factory called on the first miss (building a session is costly). */
  readonly embedder: AnyEmbedder | (() => Promise<AnyEmbedder>);
  /** `sam` (default) or `sam2`: the pre-processing, the key's version and the tensors stored. */
  readonly family?: EmbeddingFamily;
}

const META = {
  key: 'samtune.embedding.key',
  image: 'samtune.embedding.image_sha256',
  encoder: 'samtune.embedding.encoder_key',
  version: 'samtune.embedding.preprocess_version',
  originalSize: 'samtune.embedding.original_size',
  inputSize: 'samtune.embedding.input_size',
  source: 'samtune.embedding.source',
  family: 'samtune.embedding.family',
} as const;

function parseSize(s: string | undefined): [number, number] | undefined {
  if (!s) return undefined;
  const v: unknown = JSON.parse(s);
  return Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x) && x > 0)
    ? [v[0] as number, v[1] as number]
    : undefined;
}

/** The embedding cache (see the module comment). */
export class EmbeddingCache {
  readonly dir: string;
  readonly encoderKey: string;
  readonly family: EmbeddingFamily;
  private embedderSource: AnyEmbedder | (() => Promise<AnyEmbedder>);
  private embedder: Promise<AnyEmbedder> | undefined;
  private readonly imageHashes = new Map<string, { size: number; mtimeMs: number; sha: string }>();

  constructor(options: EmbeddingCacheOptions) {
    this.dir = options.dir;
    this.encoderKey = options.encoderKey;
    this.embedderSource = options.embedder;
    this.family = options.family ?? 'sam';
  }

  /** The pre-processing version in this cache's keys. */
  get preprocessVersion(): string {
    return this.family === 'sam2' ? PREPROCESS_VERSION_SAM2 : PREPROCESS_VERSION;
  }

  /** SHA-256 of the image file (memoised per path while size and mtime are unchanged). */
  async imageSha256(imagePath: string): Promise<string> {
    const st = statSync(imagePath);
    const known = this.imageHashes.get(imagePath);
    if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return known.sha;
    const sha = await sha256File(imagePath);
    this.imageHashes.set(imagePath, { size: st.size, mtimeMs: st.mtimeMs, sha });
    return sha;
  }

  /** The cache key of an image. */
  async keyFor(imagePath: string): Promise<string> {
    const imageSha = await this.imageSha256(imagePath);
    return createHash('sha256').update(`${this.encoderKey}|${imageSha}|${this.preprocessVersion}`).digest('hex');
  }

  /** The cache file of a key. */
  pathFor(key: string): string {
    return join(this.dir, `${key}.safetensors`);
  }

  /** Reads a cache entry; undefined (and the bad file removed) when it is absent, unreadable or not this key's. */
  read(key: string): CachedEmbedding | undefined {
    const path = this.pathFor(key);
    let content;
    try {
      content = readSafetensors(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') rmSync(path, { force: true });
      return undefined;
    }
    const t = content.tensors.get(EMBEDDING_TENSOR);
    const originalSize = parseSize(content.metadata[META.originalSize]);
    const inputSize = parseSize(content.metadata[META.inputSize]);
    const high = highResFeatsOf(content.tensors);
    if (
      !t ||
      high.problem !== undefined ||
      (this.family === 'sam2') !== (high.feats !== undefined) ||
      t.dtype !== 'float32' ||
      t.shape.length !== 4 ||
      t.shape[0] !== 1 ||
      content.metadata[META.key] !== key ||
      !originalSize ||
      !inputSize
    ) {
      rmSync(path, { force: true });
      return undefined;
    }
    const feats = high.feats ? { highResFeats: high.feats } : {};
    return { embedding: t as FloatTensor, ...feats, originalSize, inputSize, path, hit: true };
  }

  /** The embedding of an image: from the cache, or computed and stored. */
  async get(imagePath: string): Promise<CachedEmbedding> {
    const key = await this.keyFor(imagePath);
    return this.read(key) ?? (await this.compute(imagePath, key));
  }

  /**
   * Makes sure every image is cached, in order. `onProgress` is called after each image with counts
   * and an ETA (from the time per computed image). Safe to interrupt: finished images stay cached.
   */
  async fill(
    imagePaths: readonly string[],
    onProgress?: (p: FillProgress) => void,
    options: FillOptions = {},
  ): Promise<FillStats> {
    const unique = [...new Set(imagePaths)];
    const skipped: { imagePath: string; message: string }[] = [];
    const start = performance.now();
    let hits = 0;
    let computed = 0;
    let computeMs = 0;
    for (const [i, imagePath] of unique.entries()) {
      const key = await this.keyFor(imagePath);
      const p = this.pathFor(key);
      let ok = false;
      try {
        ok = statSync(p).isFile() && this.read(key) !== undefined;
      } catch {
        ok = false;
      }
      if (ok) {
        hits++;
      } else {
        const t0 = performance.now();
        try {
          await this.compute(imagePath, key);
          computed++;
        } catch (e) {
          if (!(options.skipUnreadable && e instanceof EmbeddingCacheError && e.unreadableImage)) throw e;
          skipped.push({ imagePath, message: e.message });
        }
        computeMs += performance.now() - t0;
      }
      const left = unique.length - i - 1;
      onProgress?.({
        done: i + 1,
        total: unique.length,
        hits,
        computed,
        elapsedSeconds: (performance.now() - start) / 1000,
        etaSeconds: computed > 0 ? (computeMs / computed / 1000) * left : left === 0 ? 0 : Number.NaN,
      });
    }
    return {
      total: unique.length,
      hits,
      computed,
      seconds: (performance.now() - start) / 1000,
      computeSeconds: computeMs / 1000,
      skipped,
    };
  }

  /**
   * Frees the encoder (its onnxruntime session holds ~0.5 GB for TinyViT) when it has a `release()`
   * and was built from a factory; a later miss builds it again. Call after the embedding pass.
   */
  async releaseEncoder(): Promise<void> {
    const e = this.embedder;
    if (!e || typeof this.embedderSource !== 'function') return;
    this.embedder = undefined;
    const built = (await e) as ImageEmbedder & { release?: () => Promise<void> };
    await built.release?.();
  }

  private async compute(imagePath: string, key: string): Promise<CachedEmbedding> {
    this.embedder ??=
      typeof this.embedderSource === 'function' ? this.embedderSource() : Promise.resolve(this.embedderSource);
    const embedder = await this.embedder;
    let pre;
    let out: FloatTensor | Sam2Embedding;
    try {
      const img = await readImage(imagePath);
      pre = this.family === 'sam2' ? preprocessImageSam2(img) : preprocessImage(img);
    } catch (e) {
      throw new EmbeddingCacheError(
        `EmbeddingCache.get(${imagePath}): the image cannot be read: ${(e as Error).message}`,
        e instanceof ImageReadError,
      );
    }
    try {
      out = await embedder.embed(pre.tensor);
    } catch (e) {
      throw new EmbeddingCacheError(
        `EmbeddingCache.get(${imagePath}): could not embed the image: ${(e as Error).message}`,
      );
    }
    const isSam2 = 'imageEmbed' in out;
    if (isSam2 !== (this.family === 'sam2')) {
      throw new EmbeddingCacheError(
        `EmbeddingCache.get(${imagePath}): the cache's family is '${this.family}' but the encoder returned ${isSam2 ? 'SAM 2.1 features' : 'a SAM 1 embedding'}`,
      );
    }
    const embedding = 'imageEmbed' in out ? out.imageEmbed : out;
    const highResFeats = 'imageEmbed' in out ? out.highResFeats : undefined;
    const sizes = { originalSize: pre.originalSize, inputSize: pre.inputSize };
    mkdirSync(this.dir, { recursive: true });
    const path = this.pathFor(key);
    writeSafetensors(path, embeddingTensors({ embedding, ...sizes, ...(highResFeats ? { highResFeats } : {}) }), {
      [META.key]: key,
      [META.image]: await this.imageSha256(imagePath),
      [META.encoder]: this.encoderKey,
      [META.version]: this.preprocessVersion,
      ...(this.family === 'sam2' ? { [META.family]: this.family } : {}),
      [META.originalSize]: JSON.stringify(pre.originalSize),
      [META.inputSize]: JSON.stringify(pre.inputSize),
      [META.source]: imagePath,
    });
    return { embedding, ...(highResFeats ? { highResFeats } : {}), ...sizes, path, hit: false };
  }
}
