/**
 * Training samples: per image, its instances (a seeded random choice up to a cap) turned into prompts
 * (in the 1024 frame) and low-res targets `[256,256]`.
 *
 * Each instance's mask is decoded once (lazily, the first time its image is used), reduced to what
 * training needs — its tight box, its `[256,256]` low-res target (`maskToLowRes`: the mask mapped to
 * the 1024 frame, area-averaged to 256x256, `>= 0.5`), an interior point, and a pool of random inside
 * points — and the full-size mask is dropped. Prompts:
 * - box: the tight box of the mask (inclusive pixel indices, SAM's `batched_mask_to_box`), optionally
 *   jittered per epoch (`jitterBox`);
 * - point: `points` positive points drawn from the pool each epoch (1 = SAM's single click);
 * - both: the box-priority rule (`selectPrompt` of transforms): every decoded instance has a box, so
 *   the box alone.
 * Crowd instances (`iscrowd`; CVAT's COCO export writes every mask-tool object so) are used like the
 * others with the crowd policy `keep` (default), and left out (counted) with `ignore` (COCO's meaning
 * of a crowd region). Instances with an empty mask are skipped (and counted).
 */
import {
  createRng,
  hasForeground,
  interiorPoint,
  jitterBox,
  maskBox,
  maskToLowRes,
  ResizeGeometry,
  samplePositivePoints,
  selectPrompt,
} from '@samtune/transforms';
import type { BinaryMask, FrameResize, Point, Rng } from '@samtune/transforms';
import type { PromptModeOption, DecoderPromptBatch } from './prompt-batch.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** One instance of an image, as the datasets package's `DatasetInstance` provides it. */
export interface TrainInstance {
  readonly id: string;
  readonly iscrowd?: boolean;
  /** The category (mask AP is computed per category; absent = one category). */
  readonly label?: { readonly id: number };
  /** Decodes the mask `(H,W)` at the image size. */
  mask(): Promise<BinaryMask> | BinaryMask;
}

/** One image with its instances, as the datasets package's `DatasetItem` provides it. */
export interface TrainItem {
  readonly id: string;
  readonly imagePath: string;
  readonly width: number;
  readonly height: number;
  readonly instances: readonly TrainInstance[];
}

/** What training keeps of an instance (the mask itself is dropped). */
export interface InstanceTarget {
  readonly instanceId: string;
  /** Tight box XYXY, inclusive pixel indices, ORIGINAL frame. */
  readonly box: readonly [number, number, number, number];
  /** Deterministic interior point (ORIGINAL frame), for evaluation with point prompts (only computed when points are needed). */
  readonly interior?: Point;
  /** Random inside points (ORIGINAL frame) that training draws its point prompts from (only when points are needed). */
  readonly pointPool?: readonly Point[];
  /** `[256,256]` 0/1 low-res target. */
  readonly lowRes: Uint8Array;
}

/**
 * What crowd instances (`iscrowd`) are: `keep` (default) — objects like the others (CVAT and Datumaro
 * read CVAT's `iscrowd: 1` masks back as objects); `ignore` — COCO's crowd regions, left out of
 * training and evaluation (and counted).
 */
export type CrowdPolicy = 'keep' | 'ignore';

/** The crowd policies, for flag and config checks. */
export const CROWD_POLICIES: readonly CrowdPolicy[] = ['keep', 'ignore'];

/** An image's usable instances and how many were skipped. */
export interface ImageTargets {
  readonly targets: readonly InstanceTarget[];
  /** Crowd instances among `targets` (policy `keep`). */
  readonly crowd: number;
  /** Crowd instances left out (policy `ignore`). */
  readonly skippedCrowd: number;
  readonly skippedEmpty: number;
}

/** Prompt settings (see the module comment). */
export interface SampleOptions {
  readonly mode: PromptModeOption;
  readonly points: number;
  readonly jitterFraction: number;
  readonly jitterPixels: number;
}

/** Size of the per-instance point pool. */
export const POINT_POOL_SIZE = 32;

/** Thrown when an instance's mask does not have its image's size. */
export class SampleError extends SamtuneError {
  readonly code: string = 'sample';
  readonly kind: ErrorKind = 'input';
}

/** Stable 32-bit hash of a string (FNV-1a), to seed per-instance generators. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A generator seeded by (seed, any labels): the same inputs give the same sequence. */
export function derivedRng(seed: number, ...labels: (string | number)[]): Rng {
  return createRng(hashString(`${seed}|${labels.join('|')}`));
}

/**
 * Decodes each instance mask once and keeps its target (see `InstanceTarget`). The interior point
 * and the point pool (a distance transform and a sampling over the full-size mask) are computed only
 * with `withPoints`. Crowd instances follow `crowd` (see `CrowdPolicy`).
 */
export async function computeImageTargets(
  item: TrainItem,
  seed: number,
  withPoints = false,
  crowdPolicy: CrowdPolicy = 'keep',
  resize: FrameResize = 'longest-side',
): Promise<ImageTargets> {
  const geometry = ResizeGeometry.forSize(item, undefined, { resize });
  const targets: InstanceTarget[] = [];
  let crowd = 0;
  let skippedCrowd = 0;
  let skippedEmpty = 0;
  for (const inst of item.instances) {
    if (inst.iscrowd && crowdPolicy === 'ignore') {
      skippedCrowd++;
      continue;
    }
    const mask = await inst.mask();
    if (mask.width !== item.width || mask.height !== item.height) {
      throw new SampleError(
        `computeImageTargets(${item.imagePath}): instance '${inst.id}' mask is (H,W)=(${mask.height},${mask.width}), the image (${item.height},${item.width})`,
      );
    }
    if (!hasForeground(mask)) {
      skippedEmpty++;
      continue;
    }
    if (inst.iscrowd) crowd++;
    const low = Uint8Array.from(maskToLowRes(mask, geometry));
    targets.push({
      instanceId: inst.id,
      box: maskBox(mask),
      ...(withPoints
        ? {
            interior: interiorPoint(mask),
            pointPool: samplePositivePoints(mask, POINT_POOL_SIZE, derivedRng(seed, 'pool', item.id, inst.id)),
          }
        : {}),
      lowRes: low,
    });
  }
  return { targets, crowd, skippedCrowd, skippedEmpty };
}

/** In-memory store of `ImageTargets` by image path, computed on first use. */
export class TargetStore {
  private readonly map = new Map<string, Promise<ImageTargets>>();
  /**
   * @param seed seeds the point pools
   * @param withPoints compute interior points and point pools (point prompts)
   * @param crowd what crowd instances are (default `keep`)
   * @param resize the model frame of the low-res targets and prompts: SAM 1's `longest-side` (default),
   *   SAM 2.1's `stretch`
   */
  constructor(
    private readonly seed: number,
    readonly withPoints: boolean,
    readonly crowd: CrowdPolicy = 'keep',
    readonly resize: FrameResize = 'longest-side',
  ) {}

  /** The targets of an image (decoding its masks the first time). */
  get(item: TrainItem): Promise<ImageTargets> {
    let p = this.map.get(item.imagePath);
    if (!p) {
      p = computeImageTargets(item, this.seed, this.withPoints, this.crowd, this.resize);
      this.map.set(item.imagePath, p);
    }
    return p;
  }
}

/** Seeded Fisher-Yates shuffle (a new array). */
export function shuffled<T>(xs: readonly T[], rng: Rng): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Prompts of one image and their targets, ready for `microBatchGradients` (in chunks). */
export interface ImagePrompts {
  readonly prompts: readonly PromptSpec[];
}

/** One prompt (ORIGINAL frame) and its target. */
export interface PromptSpec {
  readonly target: InstanceTarget;
  readonly box?: readonly [number, number, number, number];
  readonly points?: readonly Point[];
}

/**
 * Chooses instances (training: a seeded shuffle then the first `cap`; evaluation: the first `cap` in
 * dataset order when `rng` is undefined) and builds their prompts. Without `rng`, prompts are
 * deterministic: the tight box, or the interior point.
 */
export function buildPrompts(
  item: TrainItem,
  targets: readonly InstanceTarget[],
  options: SampleOptions,
  cap: number,
  rng?: Rng,
): PromptSpec[] {
  const chosen = rng ? shuffled(targets, rng) : [...targets];
  const picked = cap > 0 ? chosen.slice(0, cap) : chosen;
  return picked.map((target) => {
    const sel = selectPrompt(
      { box: target.box, ...(target.interior ? { points: [target.interior] } : {}) },
      options.mode === 'point' ? 'points' : options.mode,
    );
    if (sel.kind === 'box') {
      const jitter = rng && (options.jitterFraction > 0 || options.jitterPixels > 0);
      const box = jitter
        ? jitterBox(
            target.box,
            {
              rng,
              ...(options.jitterFraction > 0 ? { fraction: options.jitterFraction } : {}),
              ...(options.jitterPixels > 0 ? { maxPixels: options.jitterPixels } : {}),
            },
            item,
          )
        : target.box;
      return { target, box };
    }
    const interior = target.interior as Point;
    const pool = target.pointPool ?? [interior];
    if (!rng) return { target, points: [interior, ...pool.slice(0, options.points - 1)] };
    const points: Point[] = [];
    for (let i = 0; i < options.points; i++) points.push(pool[rng.int(pool.length)] as Point);
    return { target, points };
  });
}

/** A chunk of prompts as decoder inputs (1024 frame) and `[B*256*256]` targets. */
export function toDecoderBatch(
  prompts: readonly PromptSpec[],
  geometry: ResizeGeometry,
): { batch: DecoderPromptBatch; targets: Float32Array } {
  const b = prompts.length;
  const targets = new Float32Array(b * 256 * 256);
  prompts.forEach((p, i) => targets.set(p.target.lowRes, i * 256 * 256));
  const first = prompts[0];
  if (!first) throw new SampleError('toDecoderBatch(prompts): expected at least one prompt, got 0');
  if (first.box) {
    const boxes = new Float32Array(b * 4);
    prompts.forEach((p, i) => {
      if (!p.box) throw new SampleError('toDecoderBatch(prompts): a chunk mixes box and point prompts');
      boxes.set(geometry.boxToModel(p.box), i * 4);
    });
    return { batch: { size: b, boxes, numPoints: 0 }, targets };
  }
  const n = first.points?.length ?? 0;
  const coords = new Float32Array(b * n * 2);
  const labels = new Float32Array(b * n).fill(1);
  prompts.forEach((p, i) => {
    if (p.points?.length !== n)
      throw new SampleError(`toDecoderBatch(prompts): prompt ${i} has ${p.points?.length ?? 0} points, the chunk ${n}`);
    p.points.forEach((pt, j) => coords.set(geometry.pointToModel(pt), (i * n + j) * 2));
  });
  return { batch: { size: b, coords, labels, numPoints: n }, targets };
}

/** Splits `xs` into chunks of at most `size`. */
export function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
