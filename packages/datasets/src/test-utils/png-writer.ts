/**
 * Test-only PNG encoder (filter 0, optional Adam7) to build mask and image fixtures in temp dirs.
 */
import { crc32, deflateSync } from 'node:zlib';

export interface PngSpec {
  readonly width: number;
  readonly height: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
  readonly colorType: 0 | 2 | 3 | 4 | 6;
  /** Samples row-major (H,W,channels); values < 2^bitDepth. */
  readonly data: ArrayLike<number>;
  readonly bitDepth?: 1 | 2 | 4 | 8 | 16;
  /** RGB triplets for colour type 3. */
  readonly palette?: ArrayLike<number>;
  readonly interlace?: boolean;
  /** Scanline filters: 'none' (default) or 'cycle' (row r uses filter r % 5: None, Sub, Up, Average, Paeth). */
  readonly filters?: 'none' | 'cycle';
}

const CH = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

function chunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])) >>> 0, 0);
  return Buffer.concat([head, body, crc]);
}

function packRows(spec: PngSpec, xs: number[], ys: number[]): Buffer {
  const ch = CH[spec.colorType];
  const bits = spec.bitDepth ?? 8;
  const rowBytes = Math.ceil((xs.length * ch * bits) / 8);
  const out = Buffer.alloc(ys.length * (rowBytes + 1));
  ys.forEach((y, j) => {
    const row = j * (rowBytes + 1) + 1;
    xs.forEach((x, i) => {
      for (let c = 0; c < ch; c++) {
        const v = spec.data[(y * spec.width + x) * ch + c] as number;
        const s = i * ch + c;
        if (bits === 16) out.writeUInt16BE(v, row + 2 * s);
        else if (bits === 8) out[row + s] = v;
        else {
          const bit = s * bits;
          out[row + (bit >> 3)] = (out[row + (bit >> 3)] as number) | (v << (8 - bits - (bit & 7)));
        }
      }
    });
  });
  if (spec.filters === 'cycle') applyFilters(out, ys.length, rowBytes, Math.max(1, Math.ceil((ch * bits) / 8)));
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Filters rows in place (row r with filter r % 5), from the unfiltered bytes. */
function applyFilters(buf: Buffer, rows: number, rowBytes: number, bpp: number): void {
  const raw = Buffer.from(buf);
  for (let y = 0; y < rows; y++) {
    const f = y % 5;
    const o = y * (rowBytes + 1);
    buf[o] = f;
    for (let i = 0; i < rowBytes; i++) {
      const x = raw[o + 1 + i] as number;
      const a = i >= bpp ? (raw[o + 1 + i - bpp] as number) : 0;
      const b = y > 0 ? (raw[o - rowBytes - 1 + 1 + i] as number) : 0;
      const c = y > 0 && i >= bpp ? (raw[o - rowBytes - 1 + 1 + i - bpp] as number) : 0;
      const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][f] as number;
      buf[o + 1 + i] = (x - pred) & 0xff;
    }
  }
}

const range = (a: number, b: number, step: number): number[] => {
  const r: number[] = [];
  for (let v = a; v < b; v += step) r.push(v);
  return r;
};

/** Encodes a PNG file. */
export function encodePng(spec: PngSpec): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(spec.width, 0);
  ihdr.writeUInt32BE(spec.height, 4);
  ihdr[8] = spec.bitDepth ?? 8;
  ihdr[9] = spec.colorType;
  ihdr[12] = spec.interlace ? 1 : 0;
  const passes = spec.interlace ? ADAM7 : ([[0, 0, 1, 1]] as const);
  const raw = Buffer.concat(
    passes.map(([x0, y0, dx, dy]) => {
      const xs = range(x0, spec.width, dx);
      const ys = range(y0, spec.height, dy);
      return xs.length && ys.length ? packRows(spec, xs, ys) : Buffer.alloc(0);
    }),
  );
  const parts = [Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr)];
  if (spec.palette) parts.push(chunk('PLTE', Uint8Array.from(spec.palette)));
  parts.push(chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

/** A plain RGB image (all pixels `value`) as PNG bytes. */
export function rgbImagePng(width: number, height: number, value = 128): Buffer {
  return encodePng({ width, height, colorType: 2, data: new Uint8Array(width * height * 3).fill(value) });
}

/** A gray index mask from rows of numbers. */
export function grayMaskPng(rows: number[][]): Buffer {
  return encodePng({ width: rows[0]?.length ?? 0, height: rows.length, colorType: 0, data: rows.flat() });
}

/**
 * A gray 8-bit PNG whose header says `width`x`height` and whose IDAT is `zlibData` as given (e.g. the
 * zlib stream of far more bytes than the header needs): mask bombs for the hostile-input tests.
 */
export function pngWithIdat(width: number, height: number, zlibData: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  const sig = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', zlibData), chunk('IEND', new Uint8Array(0))]);
}
