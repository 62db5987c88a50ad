import { describe, expect, it } from 'vitest';
import { decodePng, PngDecodeError, readPngHeader } from './png.js';
import { deflateSync } from 'node:zlib';
import { encodePng, pngWithIdat } from './test-utils/png-writer.js';

const sample = (w: number, h: number, ch: number, max: number): number[] =>
  Array.from({ length: w * h * ch }, (_, i) => (i * 37 + 11) % (max + 1));

describe('decodePng', () => {
  it('keeps palette indices and the palette', async () => {
    const data = [0, 1, 2, 255, 3, 1];
    const palette = Array.from({ length: 256 * 3 }, (_, i) => i % 256);
    const png = await decodePng(encodePng({ width: 3, height: 2, colorType: 3, data, palette }));
    expect(png).toMatchObject({ width: 3, height: 2, colorType: 3, channels: 1 });
    expect(Array.from(png.data)).toEqual(data);
    expect(png.palette?.length).toBe(768);
  });

  it('decodes every colour type at 8 bits, with all five scanline filters', async () => {
    for (const [colorType, ch] of [
      [0, 1],
      [2, 3],
      [4, 2],
      [6, 4],
    ] as const) {
      const data = sample(7, 10, ch, 255);
      const png = await decodePng(encodePng({ width: 7, height: 10, colorType, data, filters: 'cycle' }));
      expect(png.channels).toBe(ch);
      expect(Array.from(png.data)).toEqual(data);
    }
  });

  it('unpacks 1-, 2- and 4-bit samples as stored values and keeps 16-bit values whole', async () => {
    for (const bitDepth of [1, 2, 4] as const) {
      const data = sample(11, 6, 1, 2 ** bitDepth - 1);
      const png = await decodePng(
        encodePng({
          width: 11,
          height: 6,
          colorType: 0,
          data: sample(11, 6, 1, 2 ** bitDepth - 1),
          bitDepth,
          filters: 'cycle',
        }),
      );
      expect(Array.from(png.data)).toEqual(data);
    }
    const wide = [0, 1, 255, 256, 65535, 1234];
    const png16 = await decodePng(
      encodePng({ width: 3, height: 2, colorType: 0, data: wide, bitDepth: 16, filters: 'cycle' }),
    );
    expect(png16.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(png16.data)).toEqual(wide);
  });

  it('de-interlaces Adam7', async () => {
    const data = sample(13, 9, 3, 255);
    const png = await decodePng(
      encodePng({ width: 13, height: 9, colorType: 2, data, interlace: true, filters: 'cycle' }),
    );
    expect(Array.from(png.data)).toEqual(data);
    const idx = sample(5, 3, 1, 3);
    expect(
      Array.from(
        (
          await decodePng(
            encodePng({
              width: 5,
              height: 3,
              colorType: 3,
              data: idx,
              bitDepth: 2,
              palette: [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3],
              interlace: true,
            }),
          )
        ).data,
      ),
    ).toEqual(idx);
  });

  it('reads the header alone', () => {
    const buf = encodePng({ width: 300, height: 20, colorType: 3, data: new Array(6000).fill(0), palette: [0, 0, 0] });
    expect(readPngHeader(buf)).toEqual({ width: 300, height: 20, bitDepth: 8, colorType: 3, interlace: 0 });
  });

  it('rejects non-PNG, truncated and corrupt files with PngDecodeError', async () => {
    const good = encodePng({ width: 4, height: 4, colorType: 0, data: sample(4, 4, 1, 255) });
    await expect(decodePng(Buffer.from('GIF89a....'), 'x.png')).rejects.toThrow(/'x.png': expected the PNG signature/);
    await expect(decodePng(good.subarray(0, good.length - 20))).rejects.toBeInstanceOf(PngDecodeError);
    const flipped = Buffer.from(good);
    flipped[40] = (flipped[40] as number) ^ 0xff;
    await expect(decodePng(flipped)).rejects.toThrow(/CRC mismatch/);
  });
});

describe('decodePng bounds (issue 22)', () => {
  it('stops inflating at the bytes the header needs: a 4x3 header over 4 MB of data is refused', async () => {
    const bomb = pngWithIdat(4, 3, deflateSync(Buffer.alloc(4 << 20)));
    expect(bomb.length).toBeLessThan(10_000);
    await expect(decodePng(bomb, 'bomb.png')).rejects.toThrow(
      "decodePng(buf): 'bomb.png': image data inflates past the 15 bytes its 4x3 header needs",
    );
    // exactly what the header needs decodes
    const ok = await decodePng(pngWithIdat(4, 3, deflateSync(Buffer.alloc(15))));
    expect(Array.from(ok.data)).toEqual(new Array(12).fill(0));
  });
});
