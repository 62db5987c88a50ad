/**
 * Graph pieces of the exported models that are not layers of SAM itself. The decoder's pieces (the
 * in-graph single-mask selection and the mask post-processing to a run-time `orig_im_size`) live in
 * sam-model (`engines/ort-decoder/graph-steps.ts`), shared with the in-process ORT engine, and are
 * re-exported here; the raw-RGB preprocessing of the encoder is export-only. Recorded on
 * `OnnxGraphOps` with `emit` for the ops outside the `Ops` interface.
 */
import type { OnnxGraphOps, OnnxValue } from '@samtune/onnx';

export { selectMaskInGraph, postprocessInGraph } from '@samtune/sam-model';

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
