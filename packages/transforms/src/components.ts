/**
 * Connected components of a binary mask (4-connectivity, like `cv2.connectedComponents(…, 4)`), for
 * the interactive-segmentation protocol's "largest error region".
 */
import { assertMask, type BinaryMask } from './mask.js';

/** The largest 4-connected component of a mask and its area (pixels). */
export interface LargestComponent {
  /** `(H,W)` 0/1 mask of the component alone. */
  readonly mask: BinaryMask;
  readonly area: number;
}

/**
 * The largest 4-connected component of `mask` (foreground: nonzero); on equal areas the one met first
 * in raster order. `undefined` for an empty mask. One iterative flood fill per component, O(H*W).
 */
export function largestComponent(mask: BinaryMask): LargestComponent | undefined {
  assertMask('largestComponent', 'mask', mask);
  const { width: W, height: H, data } = mask;
  const label = new Int32Array(W * H);
  const stack = new Int32Array(W * H);
  let best = 0;
  let bestArea = 0;
  let next = 0;
  for (let start = 0; start < W * H; start++) {
    if (!data[start] || label[start]) continue;
    const id = ++next;
    let top = 0;
    let area = 0;
    stack[top++] = start;
    label[start] = id;
    while (top > 0) {
      const i = stack[--top] as number;
      area++;
      const x = i % W;
      const push = (j: number): void => {
        if (data[j] && !label[j]) {
          label[j] = id;
          stack[top++] = j;
        }
      };
      if (x > 0) push(i - 1);
      if (x < W - 1) push(i + 1);
      if (i >= W) push(i - W);
      if (i < W * (H - 1)) push(i + W);
    }
    if (area > bestArea) {
      bestArea = area;
      best = id;
    }
  }
  if (best === 0) return undefined;
  const out = new Uint8Array(W * H);
  for (let i = 0; i < out.length; i++) if (label[i] === best) out[i] = 1;
  return { mask: { width: W, height: H, data: out }, area: bestArea };
}
