/**
 * Image decoding: the only place in samtune that imports sharp. Every image becomes 8-bit RGB,
 * row-major HWC, with its EXIF orientation applied.
 *
 * Conventions (chosen to match what the official SAM code sees through PIL):
 * - EXIF orientation is applied (the pixels are rotated/flipped, width/height swapped if needed).
 * - Gray and gray+alpha become RGB with R = G = B; palette images are expanded to RGB.
 * - Alpha is dropped without compositing (like PIL's `convert('RGB')`).
 * - 16-bit samples are reduced to 8 bits by keeping the high byte (`v >> 8`, like PIL for 16-bit RGB).
 * - Embedded ICC profiles are ignored (PIL and OpenCV ignore them too), so the pixel values are the
 *   decoded values, not colour-managed ones.
 */
import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** 8-bit RGB image, row-major `(H,W,3)`, `data.length === height * width * 3`. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Size of an image as `readImage` would return it (EXIF orientation applied), from the header only. */
export interface ImageInfo {
  /** Width in pixels after EXIF orientation. */
  readonly width: number;
  /** Height in pixels after EXIF orientation. */
  readonly height: number;
  /** Decoder that recognised the file: `jpeg`, `png`, `webp`, … */
  readonly format: string;
  /** EXIF orientation tag (1–8), 1 when absent. */
  readonly orientation: number;
}

/** Base class of every image reading failure; `file` is the path that failed. */
export class ImageReadError extends SamtuneError {
  readonly code: string = 'image-read';
  readonly kind: ErrorKind = 'input';
  constructor(
    readonly file: string,
    readonly reason: string,
    fn = 'readImage',
  ) {
    super(`${fn}(path): cannot read image '${file}': ${reason}`);
  }
}

/** The image file does not exist (or the path is not a regular file). */
export class ImageNotFoundError extends ImageReadError {
  override readonly code: string = 'image-not-found';
  override readonly kind: ErrorKind = 'not-found';
}

/** The file exists but is not a decodable image: unknown format, corrupt or truncated data. */
export class ImageDecodeError extends ImageReadError {
  override readonly code: string = 'image-decode';
}

/** The header declares more pixels than `ReadImageOptions.maxPixels`: refused before any pixel is decoded. */
export class ImageTooLargeError extends ImageReadError {
  override readonly code: string = 'image-too-large';
  constructor(
    file: string,
    readonly width: number,
    readonly height: number,
    readonly maxPixels: number,
    fn = 'readImage',
  ) {
    super(
      file,
      `expected at most ${maxPixels} pixels (${(maxPixels / 1e6).toFixed(1)} MP), got ${width}x${height} = ${((width * height) / 1e6).toFixed(1)} MP in the header`,
      fn,
    );
  }
}

/** What `readImage` and `readImageInfo` read: a file path, or the encoded bytes of an image file. */
export type ImageSource = string | Uint8Array;

/** Options of `readImage`. */
export interface ReadImageOptions {
  /**
   * Largest `width * height` accepted, checked from the header before decoding (a small file can
   * declare a huge image: a decompression bomb). Default: sharp's own limit (16383 x 16383).
   */
  readonly maxPixels?: number;
}

/** Name of a source in messages: the path, or `<N bytes>`. */
const label = (src: ImageSource): string => (typeof src === 'string' ? src : `<${src.length} bytes>`);

/** sharp's input: the path, or a Buffer view of the bytes (no copy). */
const input = (src: ImageSource): string | Buffer =>
  typeof src === 'string' ? src : Buffer.from(src.buffer, src.byteOffset, src.byteLength);

async function ensureFile(path: string, fn: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ImageNotFoundError(path, `expected an existing image file, got ${code}`, fn);
  }
  if (!isFile) throw new ImageNotFoundError(path, 'expected a regular file, got a directory or special file', fn);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Decodes an image file (JPEG, PNG, WebP, TIFF, GIF, …), given by path or as its encoded bytes, to
 * 8-bit RGB `(H,W,3)` with EXIF orientation applied. See the module notes for gray, alpha, palette,
 * 16-bit and ICC handling.
 * @throws ImageNotFoundError when the file is missing; ImageDecodeError when it is corrupt or truncated;
 *   ImageTooLargeError when the header declares more than `opts.maxPixels` pixels.
 */
export async function readImage(source: ImageSource, opts: ReadImageOptions = {}): Promise<RgbImage> {
  const path = label(source);
  if (typeof source === 'string') await ensureFile(source, 'readImage');
  if (opts.maxPixels !== undefined) {
    const info = await readImageInfo(source);
    if (info.width * info.height > opts.maxPixels)
      throw new ImageTooLargeError(path, info.width, info.height, opts.maxPixels);
  }
  const decoded = await sharp(input(source), {
    failOn: 'truncated',
    autoOrient: true,
    ignoreIcc: true,
    ...(opts.maxPixels === undefined ? {} : { limitInputPixels: Math.max(1, Math.floor(opts.maxPixels)) }),
  })
    .toColourspace('srgb')
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true })
    .catch((err: unknown) => {
      throw new ImageDecodeError(path, `corrupt, truncated or unsupported image data (${message(err)})`);
    });
  const { data, info } = decoded;
  if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
    throw new ImageDecodeError(
      path,
      `expected 3-channel 8-bit output of ${info.width}x${info.height}x3 bytes, got ${info.channels} channels and ${data.length} bytes`,
    );
  }
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/**
 * Reads only the header of a file (path or encoded bytes): the size `readImage` would return (EXIF
 * orientation applied, so a 90°-rotated photo reports its displayed width/height). Fast; no pixels
 * are decoded.
 * @throws ImageNotFoundError when the file is missing; ImageDecodeError when the header is unreadable.
 */
export async function readImageInfo(source: ImageSource): Promise<ImageInfo> {
  const path = label(source);
  if (typeof source === 'string') await ensureFile(source, 'readImageInfo');
  const meta = await sharp(input(source))
    .metadata()
    .catch((err: unknown) => {
      throw new ImageDecodeError(path, `unreadable image header (${message(err)})`, 'readImageInfo');
    });
  const o = meta.autoOrient as { width?: number; height?: number } | undefined;
  const orientation = meta.orientation ?? 1;
  const swap = orientation >= 5 && orientation <= 8;
  const width = o?.width ?? (swap ? meta.height : meta.width);
  const height = o?.height ?? (swap ? meta.width : meta.height);
  if (!(width > 0 && height > 0)) {
    throw new ImageDecodeError(path, `expected a positive size in the header, got ${width}x${height}`, 'readImageInfo');
  }
  return { width, height, format: meta.format, orientation };
}
