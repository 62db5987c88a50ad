/**
 * The weight-free post-processing model of the ORT decoder engine: low-res logits -> the original
 * image size (official `Sam.postprocess_masks`, cropping before the upsample), then, by `MaskOutputKind`, the logits themselves,
 * the binary mask (`logits > maskThreshold`, uint8) or the change points of its COCO RLE.
 */
import { LOW_RES_SIZE, type SamConfig } from '../../config.js';
import { OnnxGraphBuilder, OnnxGraphOps, type OnnxElemType, type OnnxValue } from '@samtune/onnx';
import { DECODER_GRAPH_OPSET } from './decoder-graph.js';
import { rleChangesInGraph, thresholdInGraph, toUint8InGraph } from './graph-steps.js';

/** What the post-processing returns at the original size. */
export type MaskOutputKind = 'logits' | 'binary' | 'rle';

/**
 * `cropResizeInGraph` (`lowRes [B,M,256,256]` -> `[B,M,H,W]`) with the crop moved before the first
 * upsample: only the low-res rows/columns the cropped region reads are upsampled. Exact: with
 * half-pixel bilinear at scale 4, output row `y` reads low-res rows `floor((y+0.5)/4-0.5)` and the
 * next, so the rows `< floor(h/4)+2` of the crop `h` are all it needs, and a Resize with `scales`
 * (not `sizes`) keeps the source coordinates of the full-size upsample.
 */
function cropFirstResizeInGraph(
  ops: OnnxGraphOps,
  lowRes: OnnxValue,
  inputSize: OnnxValue,
  originalSize: OnnxValue,
  imgSize: number,
): OnnxValue {
  const scale = imgSize / LOW_RES_SIZE;
  const needed = ops.emit(
    'Min',
    [
      ops.emit('Add', [ops.emit('Div', [inputSize, ops.int64Const([scale])], [2]), ops.int64Const([2])], [2]),
      ops.int64Const([LOW_RES_SIZE]),
    ],
    [2],
  );
  const axes = ops.int64Const([2, 3]);
  const zeros = ops.int64Const([0, 0]);
  const low = ops.emit('Slice', [lowRes.name, zeros, needed.name, axes], [-1, -1, -1, -1]);
  const scales = ops.constant(new Float32Array([1, 1, scale, scale]), [4], 'upsample_scales');
  const attrs = { mode: 'linear', coordinate_transformation_mode: 'half_pixel' };
  const up = ops.emit('Resize', [low.name, '', scales.name], [-1, -1, -1, -1], attrs);
  const cropped = ops.emit('Slice', [up.name, zeros, inputSize.name, axes], [-1, -1, -1, -1]);
  const bm = ops.emit('Shape', [lowRes], [2], { start: 0, end: 2 });
  const sizes = ops.emit('Concat', [bm.name, originalSize.name], [4], { axis: 0 });
  return ops.emit('Resize', [cropped.name, '', '', sizes.name], [-1, -1, -1, -1], attrs);
}

/** Declares a graph output of any element type (an Identity renames the value when needed). */
function typedOutput(
  ops: OnnxGraphOps,
  name: string,
  value: OnnxValue,
  shape: readonly (number | string | null)[],
  elemType: OnnxElemType,
): void {
  if (value.name !== name)
    ops.builder.addNode('Identity', [value.name], {}, { outputs: [name], name: `${name}_identity` });
  ops.builder.addOutput(name, shape, elemType);
}

/**
 * Records the post-processing graph. Inputs: `low_res_masks [B,M,256,256]` float32 logits (or
 * their top-left `[B,M,r,c]` with `r >= floor(h/4) + 2` or 256, likewise `c`),
 * `input_size [2]` int64 (h,w) of the resized image (`preprocessShape`), `original_size [2]` int64
 * (H,W). Outputs by `kind`:
 * - `logits`: `masks [B,M,H,W]` float32;
 * - `binary`: `masks [B,M,H,W]` uint8 0/1 (`> maskThreshold`);
 * - `rle`: `changes [2,C]` int64 and `first [B*M,1]` uint8 (see `rleChangesInGraph`).
 */
export function recordPostprocessGraph(config: SamConfig, kind: MaskOutputKind): OnnxGraphOps {
  const ops = new OnnxGraphOps(
    new Map(),
    new OnnxGraphBuilder({ name: `samtune_postprocess_${kind}`, opset: DECODER_GRAPH_OPSET }),
  );
  // rows/columns may be fewer than 256 (the page's prompt graph upscales only what this reads)
  const low = ops.input('low_res_masks', ['batch', 'masks', 'low_res_rows', 'low_res_cols']);
  const inputSize = ops.input('input_size', [2], 'int64');
  const originalSize = ops.input('original_size', [2], 'int64');
  const logits = ops.scoped('postprocess', () =>
    cropFirstResizeInGraph(ops, low, inputSize, originalSize, config.imageEncoder.imgSize),
  );
  maskOutputsInGraph(ops, logits, kind, config.maskThreshold);
  return ops;
}

/**
 * Declares the outputs of a post-processing graph for `kind` from `logits [B,M,H,W]` at the
 * original size (see `recordPostprocessGraph`; SAM 2.1's engine shares it).
 */
export function maskOutputsInGraph(
  ops: OnnxGraphOps,
  logits: OnnxValue,
  kind: MaskOutputKind,
  maskThreshold: number,
): void {
  const full = ['batch', 'masks', 'orig_height', 'orig_width'];
  if (kind === 'logits') {
    ops.output('masks', logits, full);
    return;
  }
  const binary = thresholdInGraph(ops, logits, maskThreshold);
  if (kind === 'binary') {
    typedOutput(ops, 'masks', toUint8InGraph(ops, binary), full, 'uint8');
    return;
  }
  const { changes, first } = rleChangesInGraph(ops, binary);
  typedOutput(ops, 'changes', changes, [2, 'num_changes'], 'int64');
  typedOutput(ops, 'first', first, ['num_masks', 1], 'uint8');
}
