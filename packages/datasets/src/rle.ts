/**
 * COCO run-length encoding. Runs alternate 0,1,0,1,… starting with zeros, over the pixels in
 * COLUMN-major order (x outer, y inner), as pycocotools stores them; masks here are row-major `(H,W)`.
 * The compressed string form is pycocotools' LEB128-like code: 5 data bits per character (offset 48),
 * bit 0x20 = "more", sign taken from bit 0x10 of the last character; from the fourth run on, each
 * value is stored as the difference to the run two places before.
 */
import type { BinaryMask } from '@samtune/transforms';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown for malformed counts or a compressed string that does not decode. */
export class RleFormatError extends SamtuneError {
  readonly code: string = 'rle-format';
  readonly kind: ErrorKind = 'input';
}

/** Decodes a compressed COCO RLE string into run lengths. */
export function decodeRleString(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length)
        throw new RleFormatError(
          `decodeRleString(s): expected another character at offset ${p}, got the end of the string`,
        );
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63)
        throw new RleFormatError(
          `decodeRleString(s): expected characters '0'..'o' (48..111), got code ${c + 48} at offset ${p}`,
        );
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && (c & 0x10) !== 0) x -= 2 ** (5 * k);
    }
    const m = counts.length;
    if (m > 2) x += counts[m - 2] as number;
    counts.push(x);
  }
  return counts;
}

/** Encodes run lengths into the compressed COCO RLE string (inverse of `decodeRleString`). */
export function encodeRleString(counts: readonly number[]): string {
  let out = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i] as number;
    if (i > 2) x -= counts[i - 2] as number;
    let more = true;
    while (more) {
      let c = ((x % 32) + 32) % 32;
      x = Math.floor(x / 32);
      more = (c & 0x10) !== 0 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      out += String.fromCharCode(c + 48);
    }
  }
  return out;
}

/**
 * Checks run lengths: non-negative integers summing to `height * width`.
 * @returns undefined when valid, else what is wrong.
 */
export function checkRleCounts(counts: readonly number[], height: number, width: number): string | undefined {
  let sum = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0)
      return `expected non-negative integer counts, got ${JSON.stringify(c)} at index ${i}`;
    sum += c;
  }
  if (sum !== height * width)
    return `expected counts to sum to h*w = ${height}*${width} = ${height * width}, got ${sum}`;
  return undefined;
}

/** Decodes run lengths (column-major) into a row-major binary mask `(H,W)`. Counts must be valid. */
export function rleToMask(counts: readonly number[], height: number, width: number): BinaryMask {
  const data = new Uint8Array(height * width);
  let p = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i] as number;
    if (i % 2 === 1) {
      for (let q = p; q < p + n; q++) {
        const x = Math.floor(q / height);
        data[(q - x * height) * width + x] = 1;
      }
    }
    p += n;
  }
  return { width, height, data };
}

/** Encodes a row-major binary mask into column-major run lengths (starting with a zero run). */
export function maskToRle(mask: BinaryMask): number[] {
  const { width, height, data } = mask;
  const counts: number[] = [];
  let prev = 0;
  let run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const v = data[y * width + x] ? 1 : 0;
      if (v !== prev) {
        counts.push(run);
        run = 0;
        prev = v;
      }
      run++;
    }
  }
  counts.push(run);
  return counts;
}

/** Tight box XYXY of the foreground of run lengths, or undefined when empty. */
export function rleBounds(counts: readonly number[], height: number): [number, number, number, number] | undefined {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  let p = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i] as number;
    if (i % 2 === 1 && n > 0) {
      const xa = Math.floor(p / height);
      const xb = Math.floor((p + n - 1) / height);
      x0 = Math.min(x0, xa);
      x1 = Math.max(x1, xb);
      if (xa !== xb) {
        y0 = 0;
        y1 = height - 1;
      } else {
        y0 = Math.min(y0, p - xa * height);
        y1 = Math.max(y1, p + n - 1 - xa * height);
      }
    }
    p += n;
  }
  return x0 === Infinity ? undefined : [x0, y0, x1 + 1, y1 + 1];
}
