/**
 * The one item model every reader produces. Coordinates are ORIGINAL image pixels with the
 * continuous convention: pixel (x, y) covers [x, x+1) x [y, y+1), so a box that covers exactly
 * pixels x0..x1 is XYXY [x0, y0, x1+1, y1+1]. Masks are decoded lazily, one at a time.
 */
import type { BinaryMask } from '@samtune/transforms';
import type { DatasetError, SkipScope } from './errors.js';

/** A category. `id` is the dataset's own id (COCO category id, VOC/CSS class index, Datumaro label index). */
export interface DatasetLabel {
  readonly id: number;
  readonly name: string;
}

/** Box `[x1, y1, x2, y2]` (XYXY) in original image pixels, x2 > x1, y2 > y1. */
export type BoxXYXY = readonly [number, number, number, number];

/**
 * Where an instance's mask comes from:
 * - `polygon`: polygon(s) rasterised like pycocotools (see `rasterizePolygon`);
 * - `rle`: COCO run-length encoding (compressed string or counts);
 * - `mixed`: union of polygons and RLEs (a Datumaro group);
 * - `png`: an instance-index PNG (VOC SegmentationObject);
 * - `semantic`: a connected component of one class in a class-index PNG (CSS, VOC SegmentationClass alone);
 * - `box`: no shape was given; the mask is the box rasterised like a polygon (a weak, box-shaped label).
 */
export type MaskSource = 'polygon' | 'rle' | 'mixed' | 'png' | 'semantic' | 'box';

/** Scalar attributes carried over from the source annotation (VOC flags, COCO/Datumaro attributes). */
export type InstanceAttributes = Readonly<Record<string, string | number | boolean>>;

/** One object in an image. */
export interface DatasetInstance {
  /** Unique within its item: the source annotation id, or a reader-made id (`obj1`, `cc3`). */
  readonly id: string;
  readonly label: DatasetLabel;
  /** Tight or annotated box, XYXY, original pixels. */
  readonly box: BoxXYXY;
  /** COCO `iscrowd` (a region of several objects); false for formats without the notion. */
  readonly iscrowd: boolean;
  readonly maskSource: MaskSource;
  readonly attributes: InstanceAttributes;
  /** Keypoints `[x, y]` in original pixels that belong to this instance (Datumaro `points` in its group). */
  readonly points?: readonly (readonly [number, number])[];
  /**
   * Decodes the mask `(H,W)` at the item's image size, on demand. Nothing is cached: every call
   * decodes again and the caller owns the result, so a dataset never holds all its masks.
   */
  mask(): Promise<BinaryMask> | BinaryMask;
}

/** One image with its instances. */
export interface DatasetItem {
  /** Unique within its subset (file name without extension, or the format's own item id). */
  readonly id: string;
  readonly subset: string;
  /**
   * The format's own image id where it has one (COCO `images[].id`, SA-1B `image.image_id`): what a
   * COCO results file's `image_id` refers to.
   */
  readonly sourceId?: number | string;
  /** Absolute path of the image file. */
  readonly imagePath: string;
  /** Image size `(H,W)` in pixels (EXIF orientation applied, as `readImage` returns it). */
  readonly width: number;
  readonly height: number;
  readonly instances: readonly DatasetInstance[];
}

/** A reported and skipped problem (see `errors.ts`). */
export interface SkippedEntry {
  readonly kind: string;
  readonly scope: SkipScope;
  readonly reader: string;
  readonly file: string;
  readonly subset: string | undefined;
  readonly itemId: string | undefined;
  readonly annotationId: string | undefined;
  readonly message: string;
  readonly error: DatasetError;
}

/** A loaded dataset. Subsets keep the order in which the reader found them. */
export interface Dataset {
  /** Adapter name: `coco`, `voc`, `css`, `datumaro`, or a registered one. */
  readonly format: string;
  /** Absolute dataset root. */
  readonly root: string;
  /** Every declared category, also those without instances, sorted by id. */
  readonly labels: readonly DatasetLabel[];
  readonly subsets: Readonly<Record<string, readonly DatasetItem[]>>;
  /** Everything reported and skipped while loading (empty with `strict: true`, which throws instead). */
  readonly skipped: readonly SkippedEntry[];
}

/** How much of each image is checked at load time. */
export type ImageCheck = 'header' | 'decode';

/** Options of `loadDataset`. */
export interface LoadOptions {
  /** `auto` (default) detects the format; otherwise an adapter name. */
  readonly format?: string;
  /** Throw the first bad-input error instead of reporting and skipping (default false). */
  readonly strict?: boolean;
  /**
   * `header` (default): every image must exist and have a readable header whose size matches the
   * annotations. `decode`: decode every image fully as well (finds truncated files; slow).
   */
  readonly imageCheck?: ImageCheck;
  /** Concurrent file reads while loading (default 8). */
  readonly concurrency?: number;
  /** Image folder of a COCO JSON file given as `root` (default: the file's folder). */
  readonly images?: string;
  /**
   * Let paths read from dataset files (COCO `file_name`s, Datumaro `image.path`s, VOC ids and
   * `<filename>`s, mask and CSS image names, plugin adapters' `ctx.containedPath`) point outside their
   * folder: absolute paths, `../` escapes, symlinks to files elsewhere (`resolveContained`). Default
   * false: such an item is reported (`ImageOutsideRootError`) and skipped, so a crafted dataset cannot
   * make samtune (or the labelling server) read arbitrary files.
   * The environment variable `SAMTUNE_ALLOW_IMAGES_OUTSIDE_ROOT=1` sets the default (for every CLI
   * command, the training worker and queue workers).
   */
  readonly allowImagesOutsideRoot?: boolean;
  /** When given and the dataset has a single subset, split it (see `splitDataset`). */
  readonly split?: { readonly seed?: number; readonly val?: number; readonly test?: number };
}
