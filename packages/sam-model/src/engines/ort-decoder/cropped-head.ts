/**
 * The channels-last mask head (`upscale.ts`) on the top-left `rows x cols` of the image-token grid
 * only, for the labelling page's prompt graph. Exact for the masks at the original size: the head
 * works pixel by pixel (sub-pixel convolutions, LayerNorm over channels, GELU, dot product), and the
 * post-processing reads only the low-res rows/columns of the resized image (`recordPostprocessGraph`
 * slices `floor(h/4) + 2` of them), so a landscape or portrait image's padding is never upscaled.
 */
import type { OnnxGraphOps, OnnxValue } from '@samtune/onnx';
import type { MaskUpscaler } from '../../mask-decoder.js';
import { headDots } from './upscale.js';

/**
 * Embedding-grid rows and columns the head must keep for an image resized to `inputSize` (h,w) in
 * the `imgSize` frame: `ceil((floor(h/4) + 2) / 4)` (low-res rows the post-processing reads, 4
 * per grid row), at most the grid.
 */
export function headSizeFor(inputSize: readonly [number, number], grid: readonly [number, number]): [number, number] {
  return [0, 1].map((i) => Math.min(grid[i]!, Math.ceil((Math.floor(inputSize[i]! / 4) + 2) / 4))) as [number, number];
}

/**
 * A `MaskUpscaler` over the grid's top-left `headSize` (`[2]` int64 rows, cols; a graph input):
 * masks `[B, M, 4*rows, 4*cols]`, equal to the same region of `upscaleMasksChannelsLast`'s.
 */
export function croppedMaskUpscaler(ops: OnnxGraphOps, headSize: OnnxValue): MaskUpscaler<OnnxValue> {
  return (up, keys, hyperIn, [b, h, w]) => {
    const c = keys.shape[2] as number;
    const m = hyperIn.shape[1] as number;
    const grid = ops.reshape(keys, [b, h, w, c]);
    const axes = ops.int64Const([1, 2]);
    const kept = ops.emit('Slice', [grid.name, ops.int64Const([0, 0]), headSize.name, axes], [b, -1, -1, c]);
    const dots = headDots(up, ops.reshape(kept, [b, -1, c]), hyperIn); // [B, 16*rows*cols, M]
    const blockShape = ops.emit('Concat', [ops.int64Const([b]), headSize.name, ops.int64Const([2, 2, 2, 2, m])], [8], {
      axis: 0,
    });
    const blocks = ops.emit('Reshape', [dots, blockShape], [b, -1, -1, 2, 2, 2, 2, m]); // (i, j, a1, b1, a2, b2, m)
    const planes = ops.transpose(blocks, [0, 7, 1, 3, 5, 2, 4, 6]); // (m, i, a1, a2, j, b1, b2)
    const size = ops.emit('Mul', [headSize.name, ops.int64Const([4, 4])], [2]);
    const outShape = ops.emit('Concat', [ops.int64Const([b, m]), size.name], [4], { axis: 0 });
    return ops.emit('Reshape', [planes, outShape], [b, m, -1, -1]);
  };
}
