/**
 * Prompts -> decoder inputs, with the official ONNX recipe (the one of the official notebook and
 * web demo): points in the 1024 frame, then a box as two corner points labelled 2,3; without a box a
 * padding point (0,0) labelled -1 is appended; `mask_input` zeros and `has_mask_input` 0 when no mask.
 */
import {
  applyBoxes,
  applyCoords,
  LOW_RES_SIZE,
  type FloatTensor,
  type HostTensor,
  type PredictPrompts,
} from '@samtune/sam-model';
import { OnnxPromptError } from './errors.js';

/** Prompts in the 1024 input frame (already `applyCoords`-transformed). */
export interface FramePrompts {
  /** XY points, 1024 frame. */
  readonly points?: readonly (readonly [number, number])[];
  /** One per point: 1 foreground, 0 background. */
  readonly labels?: readonly number[];
  /** XYXY, 1024 frame. */
  readonly box?: readonly [number, number, number, number];
  /** Low-res logits `[1,256,256]` (or `[1,1,256,256]`) of an earlier prediction. */
  readonly maskInput?: FloatTensor;
}

/** ORIGINAL-pixel prompts -> the 1024 frame with the official `ResizeLongestSide.apply_coords` (per-axis scale). */
export function promptsToFrame(
  prompts: PredictPrompts,
  originalSize: readonly [number, number],
  imgSize = 1024,
): FramePrompts {
  const { points, labels, box, maskInput } = prompts;
  const flat = points ? applyCoords(points.flat(), originalSize, imgSize) : undefined;
  return {
    ...(flat && labels
      ? {
          points: Array.from(
            { length: flat.length / 2 },
            (_, i) => [flat[2 * i] as number, flat[2 * i + 1] as number] as const,
          ),
          labels,
        }
      : {}),
    ...(box ? { box: Array.from(applyBoxes(box, originalSize, imgSize)) as [number, number, number, number] } : {}),
    ...(maskInput ? { maskInput } : {}),
  };
}

/** The decoder inputs of the official ONNX signature. */
export type DecoderFeeds = Record<
  'image_embeddings' | 'point_coords' | 'point_labels' | 'mask_input' | 'has_mask_input' | 'orig_im_size',
  HostTensor
>;

/**
 * Builds the decoder inputs for one prompt set.
 * @param embedding `[1,256,64,64]` image embeddings
 * @param prompts in the 1024 frame
 * @param originalSize (H,W) of the original image (`orig_im_size`)
 * @throws OnnxPromptError for no point and no box, points/labels of different lengths, or a mask input not `[..,256,256]`
 */
export function decoderFeeds(
  embedding: FloatTensor,
  prompts: FramePrompts,
  originalSize: readonly [number, number],
): DecoderFeeds {
  const { points = [], labels, box, maskInput } = prompts;
  if ((prompts.points === undefined) !== (labels === undefined) || (labels && labels.length !== points.length)) {
    throw new OnnxPromptError(
      `decoderFeeds(prompts): points and labels must come together with equal lengths, got ${prompts.points?.length ?? 'no'} points and ${labels?.length ?? 'no'} labels`,
    );
  }
  if (points.length === 0 && !box)
    throw new OnnxPromptError('decoderFeeds(prompts): the ONNX decoder needs at least one point or a box, got neither');
  const coords: number[] = points.flatMap((p) => [p[0], p[1]]);
  const labs: number[] = [...(labels ?? [])];
  if (box) {
    coords.push(box[0], box[1], box[2], box[3]);
    labs.push(2, 3);
  } else {
    coords.push(0, 0);
    labs.push(-1);
  }
  const lowN = LOW_RES_SIZE * LOW_RES_SIZE;
  if (
    maskInput &&
    (maskInput.data.length !== lowN || maskInput.shape.slice(-2).join(',') !== `${LOW_RES_SIZE},${LOW_RES_SIZE}`)
  ) {
    throw new OnnxPromptError(
      `decoderFeeds(prompts.maskInput): expected [1,${LOW_RES_SIZE},${LOW_RES_SIZE}] logits, got [${maskInput.shape.join(',')}]`,
    );
  }
  const f32 = (data: Float32Array, shape: number[]): HostTensor => ({ dtype: 'float32', shape, data });
  return {
    image_embeddings: embedding,
    point_coords: f32(Float32Array.from(coords), [1, labs.length, 2]),
    point_labels: f32(Float32Array.from(labs), [1, labs.length]),
    mask_input: f32(maskInput ? maskInput.data : new Float32Array(lowN), [1, 1, LOW_RES_SIZE, LOW_RES_SIZE]),
    has_mask_input: f32(Float32Array.from([maskInput ? 1 : 0]), [1]),
    orig_im_size: f32(Float32Array.from(originalSize), [2]),
  };
}
