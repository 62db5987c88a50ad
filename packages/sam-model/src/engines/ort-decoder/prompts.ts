/**
 * Prompts in ORIGINAL image pixels -> the decoder graph's inputs, with the official SAM ONNX recipe:
 * points moved to the 1024 frame (`applyCoords`, per-axis scale), then a box as two corner points
 * labelled 2/3; points without a box get the padding point `(0,0)` labelled -1 (what the official
 * `PromptEncoder` appends). This is exactly the token sequence of the official predictor.
 */
import { applyBoxes, applyCoords } from '../../postprocess.js';
import { checkPredictPrompts, type PredictPrompts } from '../../predictor.js';
import type { FloatTensor } from '@samtune/tensor';

/** `point_coords [1,N,2]` (1024 frame, XY) and `point_labels [1,N]`. */
export interface PointFeeds {
  readonly point_coords: FloatTensor;
  readonly point_labels: FloatTensor;
}

/**
 * Checks `prompts` like the official predictor and returns the decoder's point inputs.
 * @param fn caller name for messages (`OrtDecoder.predict`)
 * @throws PredictorInputError for points and labels of different lengths, or a mask input not `[1,256,256]`
 */
export function pointFeeds(
  fn: string,
  prompts: PredictPrompts,
  originalSize: readonly [number, number],
  imgSize: number,
): PointFeeds {
  checkPredictPrompts(fn, prompts);
  const { points, labels, box } = prompts;
  const np = points?.length ?? 0;
  const n = np + (box ? 2 : np > 0 ? 1 : 0);
  const coords = new Float32Array(2 * n);
  const labs = new Float32Array(n);
  if (points && labels && np > 0) {
    coords.set(applyCoords(points.flat(), originalSize, imgSize));
    labs.set(labels);
  }
  if (box) {
    coords.set(applyBoxes(box, originalSize, imgSize), 2 * np);
    labs.set([2, 3], np);
  } else if (np > 0) {
    labs[np] = -1; // padding point (0,0)
  }
  return {
    point_coords: { dtype: 'float32', shape: [1, n, 2], data: coords },
    point_labels: { dtype: 'float32', shape: [1, n], data: labs },
  };
}
