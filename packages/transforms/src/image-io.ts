/**
 * Image decoding: the only place in samtune that imports sharp. Every image becomes 8-bit RGB,
 * row-major HWC, with its EXIF orientation applied.
 */
import sharp from 'sharp';

/** 8-bit RGB image, row-major `(H,W,3)`, `data.length === height * width * 3`. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Thrown when an image file is missing, unreadable or truncated. */
export class ImageReadError extends Error {
  override readonly name = 'ImageReadError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`readImage(path): cannot read image '${file}': ${reason}`);
  }
}

/**
 * Decodes an image file (JPEG, PNG, WebP, TIFF, …) to 8-bit RGB with EXIF orientation applied.
 * Gray is expanded to RGB, alpha is dropped, 16-bit is reduced to 8-bit.
 */
export async function readImage(path: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(path, { failOn: 'truncated' })
      .rotate()
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (err) {
    throw new ImageReadError(path, err instanceof Error ? err.message : String(err));
  }
}
