import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ImageDecodeError,
  ImageNotFoundError,
  ImageReadError,
  ImageTooLargeError,
  readImage,
  readImageInfo,
} from './image-io.js';
import { referencePath } from './test-utils/fixtures.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samtune-image-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const px = (img: { width: number; data: Uint8Array }, x: number, y: number): number[] => {
  const i = (y * img.width + x) * 3;
  return [...img.data.subarray(i, i + 3)];
};

describe('readImage formats', () => {
  it('gray PNG → R = G = B', async () => {
    const g = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
    const f = join(dir, 'gray.png');
    await sharp(g, { raw: { width: 4, height: 3, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(f);
    expect((await sharp(f).metadata()).channels).toBe(1);
    const img = await readImage(f);
    expect([img.width, img.height, img.data.length]).toEqual([4, 3, 36]);
    for (let i = 0; i < 12; i++) expect(px(img, i % 4, Math.floor(i / 4))).toEqual([i * 20, i * 20, i * 20]);
  });

  it('gray+alpha PNG → gray as RGB, alpha dropped (not composited)', async () => {
    const ga = new Uint8Array(16);
    for (let i = 0; i < 8; i++) [ga[2 * i], ga[2 * i + 1]] = [i * 30, i * 20];
    const f = join(dir, 'gray-alpha.png');
    await sharp(ga, { raw: { width: 4, height: 2, channels: 2 } })
      .toColourspace('b-w')
      .png()
      .toFile(f);
    expect((await sharp(f).metadata()).channels).toBe(2);
    const img = await readImage(f);
    for (let i = 0; i < 8; i++) expect(px(img, i % 4, Math.floor(i / 4))).toEqual([i * 30, i * 30, i * 30]);
  });

  it('RGBA PNG → RGB, alpha dropped', async () => {
    const rgba = Uint8Array.from({ length: 4 * 2 * 4 }, (_, i) => (i * 37) % 256);
    const f = join(dir, 'rgba.png');
    await sharp(rgba, { raw: { width: 4, height: 2, channels: 4 } })
      .png()
      .toFile(f);
    const img = await readImage(f);
    for (let p = 0; p < 8; p++) expect(px(img, p % 4, Math.floor(p / 4))).toEqual([...rgba.subarray(p * 4, p * 4 + 3)]);
  });

  it('palette PNG → its RGB colours', async () => {
    const colours = [
      [10, 20, 30],
      [200, 100, 50],
      [0, 0, 0],
      [255, 255, 255],
    ];
    const rgb = new Uint8Array(8 * 8 * 3);
    for (let i = 0; i < 64; i++) rgb.set(colours[i % 4] as number[], i * 3);
    const f = join(dir, 'palette.png');
    await sharp(rgb, { raw: { width: 8, height: 8, channels: 3 } })
      .png({ palette: true, colours: 4, dither: 0 })
      .toFile(f);
    expect((await sharp(f).metadata()).isPalette).toBe(true);
    const img = await readImage(f);
    expect(Buffer.from(img.data).equals(Buffer.from(rgb))).toBe(true);
  });

  it('16-bit gray and RGBA PNG → 8-bit by the high byte', async () => {
    const g16 = Uint16Array.from({ length: 6 }, (_, i) => i * 12345 + 255);
    const f1 = join(dir, 'gray16.png');
    await sharp(g16, { raw: { width: 3, height: 2, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toFile(f1);
    expect((await sharp(f1).metadata()).depth).toBe('ushort');
    const a = await readImage(f1);
    for (let i = 0; i < 6; i++) expect(px(a, i % 3, Math.floor(i / 3))).toEqual(Array(3).fill((g16[i] as number) >> 8));

    const c16 = Uint16Array.from({ length: 3 * 2 * 4 }, (_, i) => (i * 4099 + 77) % 65536);
    const f2 = join(dir, 'rgba16.png');
    await sharp(c16, { raw: { width: 3, height: 2, channels: 4 } })
      .toColourspace('rgb16')
      .png()
      .toFile(f2);
    const b = await readImage(f2);
    for (let p = 0; p < 6; p++) {
      expect(px(b, p % 3, Math.floor(p / 3))).toEqual([...c16.subarray(p * 4, p * 4 + 3)].map((v) => v >> 8));
    }
  });

  it('EXIF orientation 6 JPEG is rotated 90° clockwise (readImage and readImageInfo agree)', async () => {
    // Stored 32x16: quadrants red (TL), green (TR), blue (BL), white (BR).
    const q = [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [255, 255, 255],
    ];
    const rgb = new Uint8Array(32 * 16 * 3);
    for (let y = 0; y < 16; y++)
      for (let x = 0; x < 32; x++) rgb.set(q[(x < 16 ? 0 : 1) + (y < 8 ? 0 : 2)] as number[], (y * 32 + x) * 3);
    const f = join(dir, 'exif6.jpg');
    await sharp(rgb, { raw: { width: 32, height: 16, channels: 3 } })
      .jpeg({ quality: 100 })
      .withMetadata({ orientation: 6 })
      .toFile(f);
    const img = await readImage(f);
    expect([img.width, img.height]).toEqual([16, 32]);
    expect(await readImageInfo(f)).toEqual({ width: 16, height: 32, format: 'jpeg', orientation: 6 });
    const near = (got: number[], want: number[]): void =>
      got.forEach((v, i) => expect(Math.abs(v - (want[i] as number))).toBeLessThanOrEqual(4));
    near(px(img, 3, 3), [0, 0, 255]); // displayed TL = stored BL
    near(px(img, 12, 3), [255, 0, 0]); // displayed TR = stored TL
    near(px(img, 3, 28), [255, 255, 255]); // displayed BL = stored BR
    near(px(img, 12, 28), [0, 255, 0]); // displayed BR = stored TR
  });

  it('readImageInfo reads the fixture sizes from the header', async () => {
    expect(await readImageInfo(referencePath('dog.jpg'))).toEqual({
      width: 800,
      height: 534,
      format: 'jpeg',
      orientation: 1,
    });
    expect(await readImageInfo(referencePath('truck.jpg'))).toMatchObject({ width: 1800, height: 1200 });
  });
});

describe('readImage errors', () => {
  it('missing file and directory → ImageNotFoundError naming the file', async () => {
    const missing = join(dir, 'nope.png');
    await expect(readImage(missing)).rejects.toThrow(ImageNotFoundError);
    await expect(readImage(missing)).rejects.toThrow(`'${missing}'`);
    await expect(readImageInfo(missing)).rejects.toThrow(/readImageInfo\(path\).*ENOENT/);
    await expect(readImage(dir)).rejects.toThrow(ImageNotFoundError);
  });

  it('garbage and truncated files → ImageDecodeError (an ImageReadError) naming the file', async () => {
    const garbage = join(dir, 'garbage.jpg');
    await writeFile(garbage, Buffer.from('this is not an image at all'));
    const err = await readImage(garbage).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect(err).toBeInstanceOf(ImageReadError);
    expect((err as ImageDecodeError).name).toBe('ImageDecodeError');
    expect((err as ImageDecodeError).file).toBe(garbage);
    await expect(readImageInfo(garbage)).rejects.toThrow(ImageDecodeError);

    const dog = await readFile(referencePath('dog.jpg'));
    const truncatedJpg = join(dir, 'truncated.jpg');
    await writeFile(truncatedJpg, dog.subarray(0, Math.floor(dog.length / 2)));
    await expect(readImage(truncatedJpg)).rejects.toThrow(ImageDecodeError);

    const png = await sharp(Buffer.alloc(64 * 64 * 3, 7), { raw: { width: 64, height: 64, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    const truncatedPng = join(dir, 'truncated.png');
    await writeFile(truncatedPng, png.subarray(0, Math.floor(png.length / 2)));
    await expect(readImage(truncatedPng)).rejects.toThrow(ImageDecodeError);
  });
});

describe('readImage from bytes, with a pixel limit', () => {
  it('decodes encoded bytes exactly like the file, and reads their header', async () => {
    const bytes = new Uint8Array(await readFile(referencePath('dog.jpg')));
    const [fromFile, fromBytes] = await Promise.all([readImage(referencePath('dog.jpg')), readImage(bytes)]);
    expect([fromBytes.width, fromBytes.height]).toEqual([800, 534]);
    expect(Buffer.from(fromBytes.data).equals(Buffer.from(fromFile.data))).toBe(true);
    expect(await readImageInfo(bytes)).toEqual({ width: 800, height: 534, format: 'jpeg', orientation: 1 });
    const err = await readImage(new TextEncoder().encode('not an image')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect((err as ImageDecodeError).file).toBe('<12 bytes>');
  });

  it('refuses a small file that declares too many pixels before decoding it (PNG and SVG bombs)', async () => {
    const png = await sharp({ create: { width: 2000, height: 1500, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const svg = new TextEncoder().encode(
      '<svg xmlns="http://www.w3.org/2000/svg" width="16000" height="16000"><rect width="1" height="1"/></svg>',
    );
    for (const [bytes, w, h] of [
      [png, 2000, 1500],
      [svg, 16000, 16000],
    ] as const) {
      const err = await readImage(bytes, { maxPixels: 1_000_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ImageTooLargeError);
      expect([(err as ImageTooLargeError).width, (err as ImageTooLargeError).height]).toEqual([w, h]);
      expect((err as Error).message).toMatch(
        new RegExp(
          `^readImage\\(path\\): cannot read image '<\\d+ bytes>': expected at most 1000000 pixels \\(1\\.0 MP\\), got ${w}x${h} = `,
        ),
      );
    }
    expect((await readImage(png, { maxPixels: 3_000_000 })).width).toBe(2000);
  });
});
