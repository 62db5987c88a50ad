/**
 * The weight-free post-processing model of the ORT decoder engine: low-res logits -> the original
 * image size (official `Sam.postprocess_masks`), then, by `MaskOutputKind`, the logits themselves,
 * the binary mask (`logits > maskThreshold`, uint8) or the change points of its COCO RLE.
 */
import { LOW_RES_SIZE, type SamConfig } from '../../config.js';
import { OnnxGraphBuilder, OnnxGraphOps, type OnnxElemType, type OnnxValue } from '@samtune/onnx';
import { DECODER_GRAPH_OPSET } from './decoder-graph.js';
import { cropResizeInGraph, rleChangesInGraph, thresholdInGraph, toUint8InGraph } from './graph-steps.js';

/** What the post-processing returns at the original size. */
export type MaskOutputKind = 'logits' | 'binary' | 'rle';

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
 * Records the post-processing graph. Inputs: `low_res_masks [B,M,256,256]` float32 logits,
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
  const low = ops.input('low_res_masks', ['batch', 'masks', LOW_RES_SIZE, LOW_RES_SIZE]);
  const inputSize = ops.input('input_size', [2], 'int64');
  const originalSize = ops.input('original_size', [2], 'int64');
  const logits = ops.scoped('postprocess', () =>
    cropResizeInGraph(ops, low, inputSize, originalSize, config.imageEncoder.imgSize),
  );
  const full = ['batch', 'masks', 'orig_height', 'orig_width'];
  if (kind === 'logits') {
    ops.output('masks', logits, full);
    return ops;
  }
  const binary = thresholdInGraph(ops, logits, config.maskThreshold);
  if (kind === 'binary') {
    typedOutput(ops, 'masks', toUint8InGraph(ops, binary), full, 'uint8');
    return ops;
  }
  const { changes, first } = rleChangesInGraph(ops, binary);
  typedOutput(ops, 'changes', changes, [2, 'num_changes'], 'int64');
  typedOutput(ops, 'first', first, ['num_masks', 1], 'uint8');
  return ops;
}
