/** The decoder's prompt batch, shared by training and evaluation. */

/** Prompts per decoder call, in training and evaluation, unless configured. */
export const DEFAULT_MICRO_BATCH = 4;

/** How prompts are made from an instance: its box, points, or both (a box wins when both exist). */
export type PromptModeOption = 'box' | 'point' | 'both';

/** B prompts of one image, in the MODEL (1024) frame. Either boxes, or points with labels. */
export interface DecoderPromptBatch {
  /** B, the number of prompts. */
  readonly size: number;
  /** `[B,4]` XYXY boxes, 1024 frame, row-major. */
  readonly boxes?: Float32Array;
  /** `[B,N,2]` XY points, 1024 frame. */
  readonly coords?: Float32Array;
  /** `[B,N]` point labels (1 foreground, 0 background). */
  readonly labels?: Float32Array;
  /** N, points per prompt (0 with boxes only). */
  readonly numPoints: number;
}
