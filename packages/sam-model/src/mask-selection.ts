/**
 * Which decoder output a prompt trains and which one inference keeps. One rule, in sam-model so that
 * the trainer, the evaluation and the export package (exported models select the same mask) share it:
 *
 * - A prompt that is exactly ONE point and no box is ambiguous (SAM's rule): the decoder is run with
 *   `multimask_output = true` and returns tokens 1..3.
 *   - Training: the loss is taken on the best of the three masks, the one with the LOWEST loss
 *     (SAM paper, §3: "we backprop only the minimum loss over masks").
 *   - Inference / evaluation / export: the mask with the HIGHEST predicted IoU is kept (what the
 *     official predictor's caller does with `multimask_output=True`).
 * - Every other prompt (a box, a box with points, two or more points): single-mask output, token 0.
 */

/** What a prompt is made of (only the counts matter here). */
export interface PromptShape {
  /** Whether a box is given. */
  readonly hasBox: boolean;
  /** Number of points (positive and negative). */
  readonly numPoints: number;
}

/** True when the decoder must return three masks for this prompt: one point, no box. */
export function useMultimask(prompt: PromptShape): boolean {
  return !prompt.hasBox && prompt.numPoints === 1;
}

/**
 * Inference-time choice among the decoder's outputs for one prompt: index of the highest predicted
 * IoU (first one on ties); 0 when there is a single output.
 * @param iouPredictions `[M]` predicted IoUs of one prompt (M = 1 or 3)
 */
export function selectMaskIndex(iouPredictions: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < iouPredictions.length; i++) {
    if ((iouPredictions[i] as number) > (iouPredictions[best] as number)) best = i;
  }
  return best;
}
