/** Test-only: image crops and binary-mask agreement for the transformers.js tests. */
import type { RgbImage } from '@samtune/transforms';

/** The top-left `w x h` of `img`. */
export function crop(img: RgbImage, w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) data.set(img.data.subarray(y * img.width * 3, (y * img.width + w) * 3), y * w * 3);
  return { width: w, height: h, data };
}

/** The median of `data` (the upper one for an even length). */
export function median(data: Float32Array): number {
  const sorted = Float32Array.from(data).sort();
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** IoU of `a > thr` (logits) and the boolean mask `b`; both `H*W`, row-major. */
export function maskIou(a: Float32Array, thr: number, b: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = (a[i] as number) > thr;
    const y = b[i] === 1;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 1 : inter / union;
}
