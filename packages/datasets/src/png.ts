/**
 * A small PNG decoder for label masks, which must be read as stored: palette indices stay indices
 * (an RGB decoder would lose them), gray values stay values (never rescaled). Supports every colour
 * type, bit depths 1–16 (16-bit samples are kept whole in a Uint16Array), and Adam7 interlacing. Images go through
 * `@samtune/transforms` instead; this file is for masks only.
 */
import { readFile } from 'node:fs/promises';
import { crc32, inflate } from 'node:zlib';
import { promisify } from 'node:util';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

const inflateAsync = promisify(inflate);

/** Thrown for a file that is not a PNG, is corrupt or truncated. */
export class PngDecodeError extends SamtuneError {
  readonly code: string = 'png-decode';
  readonly kind: ErrorKind = 'input';
}

/** PNG colour types: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
export type PngColorType = 0 | 2 | 3 | 4 | 6;

/** Decoded samples as stored, row-major `(H,W,channels)`. Palette images keep indices (1 channel). */
export interface DecodedPng {
  readonly width: number;
  readonly height: number;
  readonly colorType: PngColorType;
  readonly channels: number;
  /** Uint16Array for 16-bit PNGs, Uint8Array otherwise. */
  readonly data: Uint8Array | Uint16Array;
  /** `PLTE` entries as RGB triplets (palette images; may also appear in RGB images). */
  readonly palette: Uint8Array | undefined;
}

/** `IHDR` fields. */
export interface PngHeader {
  readonly width: number;
  readonly height: number;
  readonly bitDepth: number;
  readonly colorType: PngColorType;
  readonly interlace: number;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

function fail(file: string, what: string): never {
  throw new PngDecodeError(`decodePng(buf): '${file}': ${what}`);
}

/** Parses the header and collects chunks (CRC-checked). */
function parseChunks(
  buf: Uint8Array,
  file: string,
): { header: PngHeader; idat: Uint8Array[]; palette: Uint8Array | undefined } {
  if (buf.length < 8 || SIGNATURE.some((b, i) => buf[i] !== b))
    fail(file, 'expected the PNG signature, got other bytes');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let header: PngHeader | undefined;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let p = 8;
  let ended = false;
  while (!ended) {
    if (p + 12 > buf.length)
      fail(file, `truncated: expected a chunk header at byte ${p}, file has ${buf.length} bytes`);
    const len = view.getUint32(p);
    const type = String.fromCharCode(
      buf[p + 4] as number,
      buf[p + 5] as number,
      buf[p + 6] as number,
      buf[p + 7] as number,
    );
    if (p + 12 + len > buf.length)
      fail(file, `truncated: chunk '${type}' needs ${len} bytes at byte ${p + 8}, file has ${buf.length}`);
    const body = buf.subarray(p + 8, p + 8 + len);
    if (crc32(buf.subarray(p + 4, p + 8 + len)) >>> 0 !== view.getUint32(p + 8 + len))
      fail(file, `corrupt: CRC mismatch in chunk '${type}'`);
    if (type === 'IHDR') {
      const b = new DataView(body.buffer, body.byteOffset, body.byteLength);
      const colorType = body[9] as number;
      if (!(colorType in CHANNELS)) fail(file, `expected colour type 0, 2, 3, 4 or 6, got ${colorType}`);
      header = {
        width: b.getUint32(0),
        height: b.getUint32(4),
        bitDepth: body[8] as number,
        colorType: colorType as PngColorType,
        interlace: body[12] as number,
      };
    } else if (type === 'PLTE') palette = body.slice();
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') ended = true;
    p += 12 + len;
  }
  if (!header) fail(file, 'expected an IHDR chunk, found none');
  if (header.width === 0 || header.height === 0)
    fail(file, `expected a non-zero size, got ${header.width}x${header.height}`);
  if (![1, 2, 4, 8, 16].includes(header.bitDepth))
    fail(file, `expected bit depth 1, 2, 4, 8 or 16, got ${header.bitDepth}`);
  return { header, idat, palette };
}

/** Reads only the header of a PNG file (first 33 bytes). */
export function readPngHeader(buf: Uint8Array, file = '<buffer>'): PngHeader {
  if (buf.length < 33 || SIGNATURE.some((b, i) => buf[i] !== b))
    fail(file, 'expected the PNG signature and IHDR, got other bytes');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    width: view.getUint32(16),
    height: view.getUint32(20),
    bitDepth: buf[24] as number,
    colorType: buf[25] as PngColorType,
    interlace: buf[28] as number,
  };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Undoes the scanline filters of one (sub-)image; returns its rows without filter bytes. */
function unfilter(
  raw: Uint8Array,
  offset: number,
  rows: number,
  rowBytes: number,
  bpp: number,
  file: string,
): Uint8Array {
  const out = new Uint8Array(rows * rowBytes);
  for (let y = 0; y < rows; y++) {
    const f = raw[offset + y * (rowBytes + 1)] as number;
    const src = offset + y * (rowBytes + 1) + 1;
    const row = y * rowBytes;
    const prev = row - rowBytes;
    for (let i = 0; i < rowBytes; i++) {
      const x = raw[src + i] as number;
      const a = i >= bpp ? (out[row + i - bpp] as number) : 0;
      const b = y > 0 ? (out[prev + i] as number) : 0;
      const c = y > 0 && i >= bpp ? (out[prev + i - bpp] as number) : 0;
      let v: number;
      if (f === 0) v = x;
      else if (f === 1) v = x + a;
      else if (f === 2) v = x + b;
      else if (f === 3) v = x + ((a + b) >> 1);
      else if (f === 4) v = x + paeth(a, b, c);
      else fail(file, `corrupt: expected filter type 0..4, got ${f} on row ${y}`);
      out[row + i] = v & 0xff;
    }
  }
  return out;
}

/** Writes the samples of an unfiltered (sub-)image into `dst` at pixel positions (x0 + i*dx, y0 + j*dy). */
function scatter(
  src: Uint8Array,
  w: number,
  h: number,
  h0: PngHeader,
  ch: number,
  dst: Uint8Array | Uint16Array,
  x0: number,
  y0: number,
  dx: number,
  dy: number,
): void {
  const bits = h0.bitDepth;
  const rowBytes = Math.ceil((w * ch * bits) / 8);
  for (let j = 0; j < h; j++) {
    const row = j * rowBytes;
    const y = y0 + j * dy;
    for (let i = 0; i < w; i++) {
      const o = (y * h0.width + x0 + i * dx) * ch;
      for (let c = 0; c < ch; c++) {
        const s = i * ch + c;
        let v: number;
        if (bits === 8) v = src[row + s] as number;
        else if (bits === 16) v = ((src[row + 2 * s] as number) << 8) | (src[row + 2 * s + 1] as number);
        else {
          const bit = s * bits;
          v = ((src[row + (bit >> 3)] as number) >> (8 - bits - (bit & 7))) & ((1 << bits) - 1);
        }
        dst[o + c] = v;
      }
    }
  }
}

/** Bytes of filtered scanlines (a filter byte per row) the header's size and passes need. */
function scanlineBytes(
  header: PngHeader,
  ch: number,
  passes: readonly (readonly [number, number, number, number])[],
): number {
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((header.width - x0) / dx);
    const h = Math.ceil((header.height - y0) / dy);
    if (w > 0 && h > 0) total += h * (Math.ceil((w * ch * header.bitDepth) / 8) + 1);
  }
  return total;
}

/**
 * Decodes a PNG buffer (see module notes). Inflation stops at the bytes the header's size needs, so a
 * small file cannot inflate past its own declared image; compare `readPngHeader` with the size you
 * expect before calling this on untrusted input.
 */
export async function decodePng(buf: Uint8Array, file = '<buffer>'): Promise<DecodedPng> {
  const { header, idat, palette } = parseChunks(buf, file);
  const ch = CHANNELS[header.colorType] as number;
  const passes = header.interlace === 1 ? ADAM7 : ([[0, 0, 1, 1]] as const);
  const need = scanlineBytes(header, ch, passes);
  let raw: Uint8Array;
  try {
    // Bounded by the header: image data that inflates past what its scanlines need is refused there.
    raw = await inflateAsync(Buffer.concat(idat), { maxOutputLength: Math.max(1, need) });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      fail(file, `image data inflates past the ${need} bytes its ${header.width}x${header.height} header needs`);
    fail(file, `corrupt or truncated image data (${err instanceof Error ? err.message : String(err)})`);
  }
  const bpp = Math.max(1, Math.ceil((ch * header.bitDepth) / 8));
  const size = header.width * header.height * ch;
  const data = header.bitDepth === 16 ? new Uint16Array(size) : new Uint8Array(size);
  let offset = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((header.width - x0) / dx);
    const h = Math.ceil((header.height - y0) / dy);
    if (w <= 0 || h <= 0) continue;
    const rowBytes = Math.ceil((w * ch * header.bitDepth) / 8);
    const need = h * (rowBytes + 1);
    if (offset + need > raw.length)
      fail(file, `truncated image data: expected at least ${offset + need} bytes after inflating, got ${raw.length}`);
    scatter(unfilter(raw, offset, h, rowBytes, bpp, file), w, h, header, ch, data, x0, y0, dx, dy);
    offset += need;
  }
  return { width: header.width, height: header.height, colorType: header.colorType, channels: ch, data, palette };
}

/** Reads and decodes a PNG file. */
export async function readPng(path: string): Promise<DecodedPng> {
  return decodePng(await readFile(path), path);
}
