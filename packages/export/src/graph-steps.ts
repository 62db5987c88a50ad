/**
 * Graph pieces of the exported models that are not layers of SAM itself: the in-graph single-mask
 * selection, mask post-processing to a run-time `orig_im_size`, and the raw-RGB preprocessing of the
 * encoder. Recorded on `OnnxGraphOps` with `emit` for the ops outside the `Ops` interface.
 */
import type { OnnxGraphOps, OnnxValue } from '@samtune/onnx';

/** ONNX `TensorProto.DataType` codes used by `Cast`. */
const ONNX_FLOAT = 1;
const ONNX_INT64 = 7;

/**
 * Number of labels of `labels [1,N]` equal to one of `values`, as a float scalar `[]`.
 * (Batch 1: the official export's batch; a ReduceSum without axes sums everything.)
 */
function countLabels(ops: OnnxGraphOps, labels: OnnxValue, values: readonly number[]): OnnxValue {
  let hits = ops.equalScalar(labels, values[0] as number);
  for (const v of values.slice(1)) hits = ops.add(hits, ops.equalScalar(labels, v));
  return ops.emit('ReduceSum', [hits], [], { keepdims: 0 });
}

/**
 * The samtune single-mask rule (sam-model `useMultimask` + `selectMaskIndex`) inside the graph:
 * exactly one point (label 0/1) and no box corner (label 2/3) -> the best-IoU mask of tokens
 * `1..numMultimask` (ArgMax: first on ties); anything else -> token 0. Padding (-1) is not counted.
 * @param labels `[1,N]` point labels
 * @param masks `[1,1+numMultimask,h,w]` all decoder masks
 * @param iou `[1,1+numMultimask]`
 * @returns masks `[1,1,h,w]`, iou `[1,1]`
 */
export function selectMaskInGraph(
  ops: OnnxGraphOps,
  labels: OnnxValue,
  masks: OnnxValue,
  iou: OnnxValue,
  numMultimask: number,
): { masks: OnnxValue; iou: OnnxValue } {
  return ops.scoped('select_mask', () => {
    const points = countLabels(ops, labels, [0, 1]);
    const corners = countLabels(ops, labels, [2, 3]);
    const ambiguous = ops.mul(ops.equalScalar(points, 1), ops.equalScalar(corners, 0)); // [] 0/1
    const best = ops.emit('ArgMax', [ops.slice(iou, 1, 1, 1 + numMultimask)], [1], { axis: 1, keepdims: 0 }); // [1] int64 in 0..M-1
    const bestTok = ops.addScalar(ops.emit('Cast', [best], [1], { to: ONNX_FLOAT }), 1); // token 1..M
    const index = ops.emit('Cast', [ops.mul(bestTok, ambiguous)], [1], { to: ONNX_INT64 }); // [1]: 0 or the best token
    const [, , h, w] = masks.shape as [number, number, number, number];
    return {
      masks: ops.emit('Gather', [masks, index], [1, 1, h, w], { axis: 1 }),
      iou: ops.emit('Gather', [iou, index], [1, 1], { axis: 1 }),
    };
  });
}

/**
 * Official `SamOnnxModel.mask_postprocessing` with a run-time size: `lowRes [1,M,h,w]` bilinear
 * (half-pixel, no antialias) to `imgSize x imgSize`, crop to the pre-padding size
 * `floor(orig * (imgSize / max(orig)) + 0.5)` (float32, as the official export computes it), then
 * bilinear to `orig_im_size` truncated to integers.
 * @param origImSize `[2]` float32 (H,W)
 * @returns `[1,M,H,W]` logits
 */
export function postprocessInGraph(
  ops: OnnxGraphOps,
  lowRes: OnnxValue,
  origImSize: OnnxValue,
  imgSize: number,
): OnnxValue {
  return ops.scoped('postprocess', () => {
    const [b, m] = lowRes.shape as [number, number];
    const up = ops.resizeBilinear(lowRes, [imgSize, imgSize]);
    const longest = ops.emit('ReduceMax', [origImSize], [], { keepdims: 0 });
    const scale = ops.emit('Div', [ops.constant(new Float32Array([imgSize]), [], 'img_size'), longest], []);
    const scaled = ops.emit('Mul', [origImSize, scale], [2]);
    const prepadded = ops.emit('Cast', [ops.emit('Floor', [ops.addScalar(scaled, 0.5)], [2])], [2], { to: ONNX_INT64 });
    const cropped = ops.emit(
      'Slice',
      [up.name, ops.int64Const([0, 0]), prepadded.name, ops.int64Const([2, 3])],
      [b, m, -1, -1],
    );
    const orig = ops.emit('Cast', [origImSize], [2], { to: ONNX_INT64 });
    const sizes = ops.emit('Concat', [ops.int64Const([b, m]), orig.name], [4], { axis: 0 });
    const attrs = { mode: 'linear', coordinate_transformation_mode: 'half_pixel' };
    return ops.emit('Resize', [cropped.name, '', '', sizes.name], [b, m, -1, -1], attrs);
  });
}

/**
 * Official `ImageEncoderOnnxModel.preprocess`: `image [h,w,3]` float32 0-255 (resized, not padded)
 * -> `(x - mean) / std` -> CHW -> zero-pad bottom/right to `imgSize` (after normalisation, so padding
 * is 0) -> `[1,3,imgSize,imgSize]`. Inputs larger than `imgSize` would be cropped by the negative
 * pads: callers resize first.
 */
export function normalizeAndPadInGraph(
  ops: OnnxGraphOps,
  image: OnnxValue,
  mean: readonly number[],
  std: readonly number[],
  imgSize: number,
): OnnxValue {
  return ops.scoped('preprocess', () => {
    const centred = ops.sub(image, ops.constant(Float32Array.from(mean), [3], 'pixel_mean'));
    const normed = ops.div(centred, ops.constant(Float32Array.from(std), [3], 'pixel_std'));
    const chw = ops.transpose(normed, [2, 0, 1]); // [3,h,w]
    const hw = ops.emit('Shape', [image], [2], { start: 0, end: 2 });
    const padHw = ops.emit('Sub', [ops.int64Const([imgSize, imgSize]), hw.name], [2]);
    const pads = ops.emit('Concat', [ops.int64Const([0, 0, 0, 0]), padHw.name], [6], { axis: 0 }); // [c0,h0,w0,c1,h1,w1]
    const padded = ops.emit('Pad', [chw.name, pads.name], [3, imgSize, imgSize], { mode: 'constant' });
    return ops.reshape(padded, [1, 3, imgSize, imgSize]);
  });
}
