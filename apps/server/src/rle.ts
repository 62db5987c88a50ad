/**
 * COCO uncompressed RLE, the mask encoding of the API and of the saved labels: `{ size: [H,W],
 * counts }` where `counts` alternate runs of 0 and 1 (starting with 0, possibly a 0-length run) over
 * the pixels in COLUMN-major order (pixel `(x,y)` is at index `x * H + y`), exactly as pycocotools
 * reads `segmentation` with a list of counts. The run-length code itself is @samtune/datasets'.
 */
import { checkRleCounts, maskToRle, rleBounds, rleToMask } from '@samtune/datasets';
import type { BinaryMask } from '@samtune/transforms';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** A COCO uncompressed RLE mask of `(H,W)` = `size`. */
export interface CocoRle {
  readonly size: readonly [number, number];
  readonly counts: readonly number[];
}

/** Thrown for counts that do not describe an `(H,W)` mask; the message says where. */
export class RleError extends SamtuneError {
  readonly code: string = 'rle';
  readonly kind: ErrorKind = 'input';
}

/** Encodes a row-major binary mask `(H,W)` as COCO uncompressed RLE (column-major runs). */
export function maskToCocoRle(mask: BinaryMask): CocoRle {
  return { size: [mask.height, mask.width], counts: maskToRle(mask) };
}

/**
 * Checks `counts` against `size` (non-negative integers summing to H*W).
 * @returns a description of the first problem, or undefined when valid.
 */
export function rleProblem(rle: CocoRle): string | undefined {
  const [h, w] = rle.size;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h <= 0 || w <= 0)
    return `size: expected [H,W] with positive integers, got [${rle.size.join(',')}]`;
  const problem = checkRleCounts(rle.counts, h, w);
  return problem && `counts: ${problem}`;
}

/** Decodes COCO uncompressed RLE to a row-major binary mask. @throws RleError for invalid counts. */
export function cocoRleToMask(rle: CocoRle): BinaryMask {
  const problem = rleProblem(rle);
  if (problem) throw new RleError(`cocoRleToMask(rle): ${problem}`);
  return rleToMask(rle.counts, rle.size[0], rle.size[1]);
}

/** Number of foreground pixels. */
export function rleArea(rle: CocoRle): number {
  let n = 0;
  for (let k = 1; k < rle.counts.length; k += 2) n += rle.counts[k] as number;
  return n;
}

/** COCO `bbox` `[x, y, width, height]` in pixels of the foreground, or undefined when empty. */
export function rleBbox(rle: CocoRle): [number, number, number, number] | undefined {
  const b = rleBounds(rle.counts, rle.size[0]);
  return b && [b[0], b[1], b[2] - b[0], b[3] - b[1]];
}
