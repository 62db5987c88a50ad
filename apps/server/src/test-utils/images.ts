/** Test-only: small image files, and "bombs" whose header declares a huge image. */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

/** A solid-colour PNG of `(width,height)`. */
export function solidPng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 90, g: 140, b: 60 } } })
    .png()
    .toBuffer();
}

/**
 * A ~70-byte PNG whose IHDR declares `(width,height)` (its pixel data is a 1x1 image's: reading the
 * header is cheap, decoding would try to allocate the declared size).
 */
export async function bombPng(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await solidPng(1, 1));
  // signature (8) | length (4) | "IHDR" (4) | width (4) | height (4) | depth, colour, … (5) | CRC (4)
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** A 100-byte SVG of `(size,size)` pixels. */
export const svgBomb = (size: number): Buffer =>
  Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="1" height="1"/></svg>`,
  );
