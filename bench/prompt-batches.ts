/** Shared by the training benchmarks: `n` box prompts of one image cycling over a fixture's boxes. */
import type { DecoderPromptBatch } from '@samtune/trainer';

const PLANE = 256 * 256;

/**
 * `n` prompts cycling over the fixture's 3 boxes (`boxes` `[3,4]` in the 1024 frame, `masks`
 * `[3,256,256]` low-res targets), split into micro-batches of at most `micro` prompts.
 */
export function cycledMicroBatches(
  boxes: Float32Array,
  masks: Float32Array,
  n: number,
  micro: number,
): { batch: DecoderPromptBatch; targets: Float32Array }[] {
  const out: { batch: DecoderPromptBatch; targets: Float32Array }[] = [];
  for (let from = 0; from < n; from += micro) {
    const b = Math.min(micro, n - from);
    const bx = new Float32Array(b * 4);
    const targets = new Float32Array(b * PLANE);
    for (let i = 0; i < b; i++) {
      const k = (from + i) % 3;
      bx.set(boxes.subarray(k * 4, k * 4 + 4), i * 4);
      targets.set(masks.subarray(k * PLANE, (k + 1) * PLANE), i * PLANE);
    }
    out.push({ batch: { size: b, boxes: bx, numPoints: 0 }, targets });
  }
  return out;
}
