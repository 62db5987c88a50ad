/**
 * COCO uncompressed RLE from the change points the post-processing graph computes
 * (`rleChangesInGraph`): O(changes) on the host, never a loop over every pixel.
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when the graph's change points do not describe `numMasks` masks of `(H,W)`. */
export class RleChangesError extends SamtuneError {
  readonly code: string = 'rle-changes';
  readonly kind: ErrorKind = 'internal';
}

/**
 * A binary mask at the original size as COCO uncompressed RLE: `counts` alternate runs of 0 and 1
 * (starting with 0, possibly a 0-length run) over the pixels in COLUMN-major order (pixel `(x,y)` at
 * index `x*H + y`), as pycocotools reads a list of counts; `area` is the number of 1 pixels.
 */
export interface MaskRle {
  /** `(H,W)`. */
  readonly size: readonly [number, number];
  readonly counts: number[];
  readonly area: number;
}

/**
 * Run lengths of `numMasks` masks of `(H,W)` from their change points.
 * @param changes `[2,C]` int64 row-major: row 0 the mask index k, row 1 the position i (pixel i+1 of
 *   mask k differs from pixel i), grouped by k and ascending in i (ONNX NonZero's order)
 * @param first `[numMasks]` pixel 0 of each mask (0/1)
 */
export function rleFromChanges(
  changes: BigInt64Array,
  first: Uint8Array,
  numMasks: number,
  size: readonly [number, number],
): MaskRle[] {
  const n = size[0] * size[1];
  const c = changes.length / 2;
  if (!Number.isInteger(c) || first.length !== numMasks) {
    throw new RleChangesError(
      `rleFromChanges(changes, first): expected changes [2,C] and first [${numMasks}], got ${changes.length} and ${first.length} values`,
    );
  }
  const out: MaskRle[] = [];
  let j = 0;
  for (let k = 0; k < numMasks; k++) {
    const counts: number[] = first[k] ? [0] : [];
    let start = 0;
    let area = 0;
    let on = first[k] === 1;
    for (; j < c && Number(changes[j]) === k; j++) {
      const end = Number(changes[c + j]) + 1;
      counts.push(end - start);
      if (on) area += end - start;
      on = !on;
      start = end;
    }
    counts.push(n - start);
    if (on) area += n - start;
    out.push({ size: [size[0], size[1]], counts, area });
  }
  if (j !== c) {
    throw new RleChangesError(`rleFromChanges(changes): mask index ${String(changes[j])} is not in 0..${numMasks - 1}`);
  }
  return out;
}
