/**
 * Calibration samples from the user's own dataset (`@samtune/datasets` items):
 * - encoder: each image read, resized (longest side 1024, PIL bilinear), normalised and padded, as
 *   `images [1,3,1024,1024]`;
 * - decoder: each image's embedding (from the caller: the FP32 encoder, or a cache of it) with
 *   prompts from its instance masks, built with the official ONNX recipe (`@samtune/export`
 *   `decoderFeeds`): the tight box of the mask (two corner points, labels 2,3) and, with
 *   `prompts: 'both'`, its most interior point (one foreground point + the padding point).
 * Sample choice is deterministic (a seeded shuffle), and samples are produced lazily, one image at a time.
 */
import { decoderFeeds, promptsToFrame } from '@samtune/export';
import type { DatasetItem } from '@samtune/datasets';
import { SAM2_ENCODER_INPUT, type FloatTensor, type PredictPrompts } from '@samtune/sam-model';
import {
  createRng,
  hasForeground,
  interiorPoint,
  maskBox,
  preprocessImage,
  preprocessImageSam2,
  readImage,
  SAM_PIXEL_MEAN,
  SAM_PIXEL_STD,
} from '@samtune/transforms';
import type { Feeds } from './calibrate.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when no calibration sample can be made (no items, no usable instance). */
export class CalibrationDataError extends SamtuneError {
  readonly code: string = 'calibration-data';
  readonly kind: ErrorKind = 'input';
}

/** Up to `n` items chosen by a seeded shuffle (same items, same order for the same seed). */
export function pickCalibrationItems<T>(items: readonly T[], n: number, seed = 0): T[] {
  if (!Number.isInteger(n) || n < 1)
    throw new CalibrationDataError(`pickCalibrationItems(n): expected an integer >= 1, got ${n}`);
  const rng = createRng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out.slice(0, n);
}

/** Pre-processing of the exported encoder (`model.json` `pixel_mean`, `pixel_std`, `image_size`). */
export interface EncoderPreprocess {
  readonly pixelMean?: readonly [number, number, number];
  readonly pixelStd?: readonly [number, number, number];
  readonly imageSize?: number;
  /**
   * SAM 2.1's encoder (samexporter I/O): `image [1,3,S,S]` from `preprocessImageSam2` (stretched,
   * ImageNet mean/std); `pixelMean`/`pixelStd` do not apply.
   */
  readonly sam2?: boolean;
}

/** `images [1,3,S,S]` (SAM 2.1: `image`) of each item's image, in order (one image in memory at a time). */
export async function* encoderCalibrationFeeds(
  items: readonly Pick<DatasetItem, 'imagePath'>[],
  pre: EncoderPreprocess = {},
): AsyncGenerator<Feeds> {
  const s = pre.imageSize ?? 1024;
  for (const item of items) {
    const img = await readImage(item.imagePath);
    const shape = [1, 3, s, s];
    if (pre.sam2) {
      yield { [SAM2_ENCODER_INPUT]: { dtype: 'float32', shape, data: preprocessImageSam2(img, s).tensor } };
      continue;
    }
    const { tensor } = preprocessImage(img, pre.pixelMean ?? SAM_PIXEL_MEAN, pre.pixelStd ?? SAM_PIXEL_STD, s);
    yield { images: { dtype: 'float32', shape, data: tensor } };
  }
}

/** The embedding of an image and its original `(H,W)`. */
export type EmbeddingSource = (imagePath: string) => Promise<SourceEmbedding>;

/** An image's features (SAM 2.1: with the high-res levels) and its `(H,W)`. */
export interface SourceEmbedding {
  readonly embedding: FloatTensor;
  readonly highResFeats?: readonly [FloatTensor, FloatTensor];
  readonly originalSize: readonly [number, number];
}

/** One prompt (ORIGINAL pixels) on an image's features -> the decoder's feeds. */
export type DecoderFeedMaker = (emb: SourceEmbedding, prompts: PredictPrompts) => Feeds;

export interface DecoderCalibrationOptions {
  /** Instances per image (seeded choice). Default 4. */
  readonly promptsPerImage?: number;
  /** `box` (default for evaluation parity) or `both` (box and one interior point per instance). Default `both`. */
  readonly prompts?: 'box' | 'both';
  readonly imageSize?: number;
  readonly seed?: number;
  /** Crowd instances (`iscrowd`, e.g. CVAT's mask objects): `keep` (default, as training) or `ignore`. */
  readonly crowd?: 'keep' | 'ignore';
  /** The decoder's feeds of one prompt; default SAM 1's export I/O (`decoderFeeds` in the `imageSize` frame). */
  readonly feeds?: DecoderFeedMaker;
}

/** Decoder inputs (official signature) for each item's instances (see the module comment). */
/** The instances calibration may use under the crowd policy. */
function usableInstances(item: DatasetItem, options: DecoderCalibrationOptions): DatasetItem['instances'] {
  return options.crowd === 'ignore' ? item.instances.filter((i) => !i.iscrowd) : item.instances;
}

/**
 * How many samples `decoderCalibrationFeeds` yields at most for `items` (instances with an empty mask
 * are skipped there, so it can yield fewer): the total of the calibration progress.
 */
export function decoderCalibrationCount(
  items: readonly DatasetItem[],
  options: DecoderCalibrationOptions = {},
): number {
  const per = options.promptsPerImage ?? 4;
  const each = (options.prompts ?? 'both') === 'both' ? 2 : 1;
  return items.reduce((n, item) => n + Math.min(per, usableInstances(item, options).length) * each, 0);
}

export async function* decoderCalibrationFeeds(
  items: readonly DatasetItem[],
  embed: EmbeddingSource,
  options: DecoderCalibrationOptions = {},
): AsyncGenerator<Feeds> {
  const per = options.promptsPerImage ?? 4;
  const s = options.imageSize ?? 1024;
  let produced = 0;
  for (const item of items) {
    const usable = usableInstances(item, options);
    if (usable.length === 0) continue;
    const chosen = pickCalibrationItems(usable, Math.min(per, usable.length), options.seed ?? 0);
    const emb = await embed(item.imagePath);
    const feeds =
      options.feeds ??
      ((e: SourceEmbedding, p: PredictPrompts): Feeds =>
        decoderFeeds(e.embedding, promptsToFrame(p, e.originalSize, s), e.originalSize));
    for (const inst of chosen) {
      const mask = await inst.mask();
      if (!hasForeground(mask)) continue;
      yield feeds(emb, { box: maskBox(mask) });
      produced++;
      if ((options.prompts ?? 'both') === 'both') {
        yield feeds(emb, { points: [interiorPoint(mask)], labels: [1] });
        produced++;
      }
    }
  }
  if (produced === 0)
    throw new CalibrationDataError(
      `decoderCalibrationFeeds(items): no usable instance (non-empty mask${options.crowd === 'ignore' ? ', non-crowd' : ''}) in ${items.length} item(s)`,
    );
}
