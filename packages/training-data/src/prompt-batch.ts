/** The decoder's prompt batch, shared by training and evaluation. */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

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

/** Thrown when a prompt range does not lie inside its batch. */
export class PromptBatchError extends SamtuneError {
  readonly code: string = 'prompt-batch-range';
  readonly kind: ErrorKind = 'input';
}

/** Prompts `[from, to)` of a batch, as a batch of their own (views of its arrays, no copies). */
export function slicePromptBatch(batch: DecoderPromptBatch, from: number, to: number): DecoderPromptBatch {
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from < to && to <= batch.size))
    throw new PromptBatchError(
      `slicePromptBatch(from, to): need 0 <= from < to <= ${batch.size}, got [${from}, ${to})`,
    );
  const n = batch.numPoints;
  return {
    size: to - from,
    numPoints: n,
    ...(batch.boxes ? { boxes: batch.boxes.subarray(from * 4, to * 4) } : {}),
    ...(batch.coords ? { coords: batch.coords.subarray(from * n * 2, to * n * 2) } : {}),
    ...(batch.labels ? { labels: batch.labels.subarray(from * n, to * n) } : {}),
  };
}
