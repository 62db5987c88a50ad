/**
 * Graph pieces of the decoder models that are not layers of SAM itself, recorded on `OnnxGraphOps`
 * with `emit` for the ops outside the `Ops` interface: the in-graph single-mask selection, mask
 * post-processing to a run-time original size, the threshold to binary masks, and the change points
 * of COCO run-length encoding. Used by the in-process ORT decoder engine and by `@samtune/export`.
 */
import type { OnnxGraphOps, OnnxValue } from '@samtune/onnx';

/** ONNX `TensorProto.DataType` codes used by `Cast`. */
const ONNX_FLOAT = 1;
const ONNX_UINT8 = 2;
const ONNX_INT64 = 7;
/** ONNX's "to the end" for Slice ends. */
const INT64_MAX = Number.MAX_SAFE_INTEGER;

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
 * `Sam.postprocess_masks` with run-time sizes given as int64 `[2]` tensors: `lowRes [B,M,h,w]`
 * bilinear (half-pixel, no antialias) to `imgSize x imgSize`, crop to `inputSize` (the resized
 * image's (h,w) before padding), bilinear to `originalSize` (H,W).
 * @param inputSize `[2]` int64 (h,w)
 * @param originalSize `[2]` int64 (H,W)
 * @returns `[B,M,H,W]` logits
 */
export function cropResizeInGraph(
  ops: OnnxGraphOps,
  lowRes: OnnxValue,
  inputSize: OnnxValue,
  originalSize: OnnxValue,
  imgSize: number,
): OnnxValue {
  const [b, m] = lowRes.shape as [number, number];
  const up = ops.resizeBilinear(lowRes, [imgSize, imgSize]);
  const cropped = ops.emit(
    'Slice',
    [up.name, ops.int64Const([0, 0]), inputSize.name, ops.int64Const([2, 3])],
    [b, m, -1, -1],
  );
  const bm = b >= 0 && m >= 0 ? ops.int64Const([b, m]) : ops.emit('Shape', [lowRes], [2], { start: 0, end: 2 }).name;
  const sizes = ops.emit('Concat', [bm, originalSize.name], [4], { axis: 0 });
  const attrs = { mode: 'linear', coordinate_transformation_mode: 'half_pixel' };
  return ops.emit('Resize', [cropped.name, '', '', sizes.name], [b, m, -1, -1], attrs);
}

/**
 * Official `SamOnnxModel.mask_postprocessing` with a run-time size: the pre-padding size is
 * `floor(orig * (imgSize / max(orig)) + 0.5)` computed in float32 inside the graph (as the official
 * export computes it), the output size is `orig_im_size` truncated to integers; then
 * `cropResizeInGraph`.
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
    const longest = ops.emit('ReduceMax', [origImSize], [], { keepdims: 0 });
    const scale = ops.emit('Div', [ops.constant(new Float32Array([imgSize]), [], 'img_size'), longest], []);
    const scaled = ops.emit('Mul', [origImSize, scale], [2]);
    const prepadded = ops.emit('Cast', [ops.emit('Floor', [ops.addScalar(scaled, 0.5)], [2])], [2], { to: ONNX_INT64 });
    const orig = ops.emit('Cast', [origImSize], [2], { to: ONNX_INT64 });
    return cropResizeInGraph(ops, lowRes, prepadded, orig, imgSize);
  });
}

/** `logits > threshold` as bool, same shape (the binary mask of the official `return_logits=False`). */
export function thresholdInGraph(ops: OnnxGraphOps, logits: OnnxValue, threshold: number): OnnxValue {
  return ops.emit('Greater', [logits, ops.constant(new Float32Array([threshold]), [], 'mask_threshold')], logits.shape);
}

/** bool (or any numeric) -> uint8 0/1. */
export function toUint8InGraph(ops: OnnxGraphOps, x: OnnxValue): OnnxValue {
  return ops.emit('Cast', [x], x.shape, { to: ONNX_UINT8 });
}

/**
 * The heavy part of COCO uncompressed RLE inside the graph. `binary [B,M,H,W]` bool is read in
 * COLUMN-major order per mask (pixel `(x,y)` at `x*H + y`), as `[K=B*M, H*W]`; returns
 * - `changes [2,C]` int64: `(k, i)` for every `i` where pixel `i+1` of mask `k` differs from pixel `i`
 *   (row-major order of `(k,i)`, so each mask's changes are ascending);
 * - `first [K,1]` uint8: pixel 0 of each mask.
 * The run lengths follow from these in O(C) on the host (`rleFromChanges`).
 */
export function rleChangesInGraph(ops: OnnxGraphOps, binary: OnnxValue): { changes: OnnxValue; first: OnnxValue } {
  return ops.scoped('rle', () => {
    const colMajor = ops.emit('Transpose', [binary], [-1, -1, -1, -1], { perm: [0, 1, 3, 2] });
    const flat = ops.emit('Flatten', [colMajor], [-1, -1], { axis: 2 }); // [B*M, W*H]
    const axis1 = ops.int64Const([1]);
    const next = ops.emit('Slice', [flat.name, ops.int64Const([1]), ops.int64Const([INT64_MAX]), axis1], [-1, -1]);
    const prev = ops.emit('Slice', [flat.name, ops.int64Const([0]), ops.int64Const([-1]), axis1], [-1, -1]);
    const differs = ops.emit('Xor', [next, prev], [-1, -1]);
    const first = ops.emit('Slice', [flat.name, ops.int64Const([0]), ops.int64Const([1]), axis1], [-1, 1]);
    return { changes: ops.emit('NonZero', [differs], [2, -1]), first: toUint8InGraph(ops, first) };
  });
}
