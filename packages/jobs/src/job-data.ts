/** The payloads of samtune's jobs and what a finished job returns. Coordinates are original image pixels. */
import type { PromptMode } from '@samtune/transforms';

/** An `embed` job: one image into the embedding cache. */
export interface EmbedJobData {
  readonly imagePath: string;
  /** SHA-256 of the image file at enqueue time (a worker that reads other bytes fails the job). */
  readonly imageSha256: string;
  /** The embedding-cache key (`EmbeddingCache.keyFor`). */
  readonly cacheKey: string;
  /** Absolute cache file the worker writes. */
  readonly outputPath: string;
}

/** One prompt of an `autolabel` job: a dataset instance's box (XYXY) and/or points. */
export interface JobPrompt {
  readonly instanceId: string;
  readonly categoryId: number;
  readonly box?: readonly [number, number, number, number];
  readonly points?: readonly (readonly [number, number])[];
}

/** An `autolabel` job: one image and its prompts into one label file. */
export interface AutolabelJobData {
  readonly imagePath: string;
  readonly imageSha256: string;
  /** Cache key of the image's embedding (used when the queue has a cache folder). */
  readonly cacheKey: string;
  /** Absolute label file the worker writes (`LabelFile` JSON). */
  readonly outputPath: string;
  readonly prompt: PromptMode;
  readonly prompts: readonly JobPrompt[];
}

/** What a completed job returns (stored by BullMQ as the job's return value). */
export interface JobResult {
  /** Id of the worker process that completed it (`host:pid:random`). */
  readonly worker: string;
  readonly outputPath: string;
  /** True when the output was already there (an earlier attempt wrote it and then died). */
  readonly reused: boolean;
  /** autolabel: masks written, and prompts that gave none (with the reason). */
  readonly labels?: number;
  readonly skipped?: readonly string[];
}

/** One predicted mask in a label file (a COCO annotation without ids). */
export interface LabelAnnotation {
  readonly instance_id: string;
  readonly category_id: number;
  /** COCO compressed RLE, column-major, at the image size `(H,W)`. */
  readonly segmentation: { readonly size: [number, number]; readonly counts: string };
  readonly area: number;
  /** `[x, y, w, h]` of the predicted mask, pixels. */
  readonly bbox: [number, number, number, number];
  readonly iscrowd: 0;
  /** SAM's predicted IoU of the kept mask. */
  readonly score: number;
  /** `box` or `points`. */
  readonly prompt: 'box' | 'points';
}

/** The per-image file an autolabel worker writes (`<out>/labels/<job id>.json`). */
export interface LabelFile {
  readonly image: { readonly path: string; readonly sha256: string; readonly width: number; readonly height: number };
  readonly annotations: readonly LabelAnnotation[];
  /** Prompts without a label, with the reason. */
  readonly skipped: readonly string[];
}
