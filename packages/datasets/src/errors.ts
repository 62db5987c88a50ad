/**
 * Named errors for bad dataset input. Every error says where (reader, file, subset, item,
 * annotation) and what is wrong (expected vs actual). Readers `report` them: by default the offending
 * item or annotation is skipped and recorded; with `strict: true` the first one is thrown.
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** What a reported error made the reader drop. */
export type SkipScope = 'file' | 'item' | 'annotation';

/** Where a problem was found. `file` is an absolute or root-relative path. */
export interface DatasetErrorLocation {
  /** The reader that found it, e.g. `loadCoco`. */
  readonly reader: string;
  readonly file: string;
  readonly subset?: string;
  readonly itemId?: string;
  readonly annotationId?: string;
}

function where(loc: DatasetErrorLocation): string {
  const parts = [`${loc.reader}: ${loc.file}`];
  if (loc.subset !== undefined) parts.push(`subset '${loc.subset}'`);
  if (loc.itemId !== undefined) parts.push(`item '${loc.itemId}'`);
  if (loc.annotationId !== undefined) parts.push(`annotation '${loc.annotationId}'`);
  return parts.join(', ');
}

/** Base class of every bad-input error. `kind` is a stable machine-readable tag. */
export class DatasetError extends SamtuneError {
  readonly kind: ErrorKind = 'input';
  readonly code: string = 'dataset-error';
  readonly reader: string;
  readonly file: string;
  readonly subset: string | undefined;
  readonly itemId: string | undefined;
  readonly annotationId: string | undefined;
  /** What is dropped when the error is reported and skipped. */
  readonly scope: SkipScope;
  /** The problem alone, without the location prefix. */
  readonly detail: string;
  constructor(loc: DatasetErrorLocation, detail: string, scope: SkipScope) {
    super(`${where(loc)}: ${detail}`);
    this.reader = loc.reader;
    this.file = loc.file;
    this.subset = loc.subset;
    this.itemId = loc.itemId;
    this.annotationId = loc.annotationId;
    this.scope = scope;
    this.detail = detail;
  }
}

/** The image file of an item does not exist. Skips the item. */
export class MissingImageError extends DatasetError {
  override readonly kind: ErrorKind = 'not-found';
  override readonly code: string = 'missing-image';
  /** `detail` replaces "does not exist" when the path exists but is not a file (e.g. a directory). */
  constructor(loc: DatasetErrorLocation, imagePath: string, detail = 'does not exist') {
    super(loc, `image file '${imagePath}' ${detail}`, 'item');
  }
}

/**
 * A path read from a dataset file (a COCO `file_name`, a Datumaro `image.path`, a VOC id or
 * `<filename>`, a mask name) leaves its folder: absolute, a `../` escape, or a symlink to a file
 * elsewhere (see `resolveContained`). Skips the item.
 */
export class ImageOutsideRootError extends DatasetError {
  override readonly code: string = 'image-outside-root';
  /**
   * @param field what the name is, e.g. `file_name`, `image.path`, `ImageSets id`
   * @param why how it leaves (default: absolute or `..`)
   */
  constructor(
    loc: DatasetErrorLocation,
    fileName: string,
    root: string,
    field = 'file_name',
    why = "absolute or '..'",
  ) {
    super(
      loc,
      `${field} '${fileName}' resolves outside the folder '${root}' (${why}); set SAMTUNE_ALLOW_IMAGES_OUTSIDE_ROOT=1 (or allowImagesOutsideRoot) to allow it`,
      'item',
    );
  }
}

/** The image exists but its header or pixels cannot be decoded (corrupt, truncated). Skips the item. */
export class UnreadableImageError extends DatasetError {
  override readonly code: string = 'unreadable-image';
  constructor(loc: DatasetErrorLocation, imagePath: string, reason: string) {
    super(loc, `image file '${imagePath}' is unreadable or truncated: ${reason}`, 'item');
  }
}

/** The size declared in the annotations differs from the image file's header. Skips the item. */
export class ImageSizeMismatchError extends DatasetError {
  override readonly code: string = 'image-size-mismatch';
  constructor(
    loc: DatasetErrorLocation,
    declared: { width: number; height: number },
    actual: { width: number; height: number },
  ) {
    super(
      loc,
      `declared image size (H,W)=(${declared.height},${declared.width}) but the image file is (${actual.height},${actual.width})`,
      'item',
    );
  }
}

/** A polygon with fewer than 3 points, an odd number of coordinates or non-finite values. Skips the annotation. */
export class InvalidPolygonError extends DatasetError {
  override readonly code: string = 'invalid-polygon';
  constructor(loc: DatasetErrorLocation, detail: string) {
    super(loc, `invalid polygon: ${detail}`, 'annotation');
  }
}

/** A box with zero/negative area, non-finite values or reaching outside the image. Skips the annotation. */
export class InvalidBoxError extends DatasetError {
  override readonly code: string = 'invalid-box';
  constructor(loc: DatasetErrorLocation, detail: string) {
    super(loc, `invalid box: ${detail}`, 'annotation');
  }
}

/** An RLE whose `size` is not the image size. Skips the annotation. */
export class RleSizeMismatchError extends DatasetError {
  override readonly code: string = 'rle-size-mismatch';
  constructor(loc: DatasetErrorLocation, rleSize: readonly unknown[], image: { width: number; height: number }) {
    super(
      loc,
      `RLE size [h,w]=${JSON.stringify(rleSize)} but the image is [${image.height},${image.width}]`,
      'annotation',
    );
  }
}

/** An RLE whose counts are malformed (negative, non-integer, bad string) or do not sum to h*w. Skips the annotation. */
export class InvalidRleError extends DatasetError {
  override readonly code: string = 'invalid-rle';
  constructor(loc: DatasetErrorLocation, detail: string) {
    super(loc, `invalid RLE: ${detail}`, 'annotation');
  }
}

/** An annotation names a category/label id or name the dataset does not declare. Skips the annotation. */
export class UnknownCategoryError extends DatasetError {
  override readonly code: string = 'unknown-category';
  constructor(loc: DatasetErrorLocation, category: string | number, known: readonly (string | number)[]) {
    const list = known.length > 12 ? `${known.slice(0, 12).join(', ')}, … (${known.length})` : known.join(', ');
    super(
      loc,
      known.length === 0
        ? `unknown category ${JSON.stringify(category)}: the annotation file declares no categories (COCO 'categories', Datumaro 'categories.label.labels' missing or empty)`
        : `unknown category ${JSON.stringify(category)}; declared: [${list}]`,
      'annotation',
    );
  }
}

/** A JSON/XML/text annotation file cannot be parsed or lacks required fields. Scope given by the caller. */
export class MalformedAnnotationError extends DatasetError {
  override readonly code: string = 'malformed-annotation';
  constructor(loc: DatasetErrorLocation, detail: string, scope: SkipScope) {
    super(loc, `malformed annotation: ${detail}`, scope);
  }
}

/** A mask image whose size differs from its image. Skips the item. */
export class MaskSizeMismatchError extends DatasetError {
  override readonly code: string = 'mask-size-mismatch';
  constructor(
    loc: DatasetErrorLocation,
    maskPath: string,
    mask: { width: number; height: number },
    image: { width: number; height: number },
  ) {
    super(
      loc,
      `mask '${maskPath}' is (H,W)=(${mask.height},${mask.width}) but the image is (${image.height},${image.width})`,
      'item',
    );
  }
}

/** A mask PNG that cannot be decoded, or holds colours/values that map to no label. Skips the item. */
export class UnreadableMaskError extends DatasetError {
  override readonly code: string = 'unreadable-mask';
  constructor(loc: DatasetErrorLocation, maskPath: string, reason: string) {
    super(loc, `mask '${maskPath}' cannot be used: ${reason}`, 'item');
  }
}

/** An id (image, item, annotation, category) appears twice; the later one is skipped. */
export class DuplicateIdError extends DatasetError {
  override readonly code: string = 'duplicate-id';
  constructor(loc: DatasetErrorLocation, what: string, id: string | number, scope: SkipScope) {
    super(loc, `duplicate ${what} id ${JSON.stringify(id)}: expected unique ids, the later one is skipped`, scope);
  }
}

/** Thrown (never skipped) when no adapter recognises a directory, or a named format is unknown. */
export class DatasetFormatError extends SamtuneError {
  readonly code: string = 'dataset-format';
  readonly kind: ErrorKind = 'input';
}

/** Thrown by `registerDatasetAdapter` for an invalid or duplicate adapter. */
export class AdapterRegistrationError extends SamtuneError {
  readonly code: string = 'adapter-registration';
  readonly kind: ErrorKind = 'input';
}

/** Thrown when a lazy mask is requested but its source file changed or vanished since loading. */
export class MaskDecodeError extends SamtuneError {
  readonly code: string = 'mask-decode';
  readonly kind: ErrorKind = 'input';
}

/**
 * A plugin's adapter failed (its `detect` or `load` threw something other than a dataset error):
 * names the adapter and the plugin file it came from.
 */
export class PluginAdapterError extends DatasetError {
  override readonly code: string = 'plugin-adapter';
}
