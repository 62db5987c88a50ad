/**
 * The weight-free post-processing model of the SAM 2.1 ORT engine (`SAM2Transforms.postprocess_masks`
 * without hole filling): low-res logits `[B,M,256,256]` -> bilinear (align_corners false = ONNX
 * `half_pixel`) straight to the original size, no crop; then the outputs of `maskOutputsInGraph`
 * (logits, uint8 masks or COCO RLE change points), as SAM 1's post-processing graph.
 */
import { OnnxGraphBuilder, OnnxGraphOps } from '@samtune/onnx';
import { LOW_RES_SIZE } from '../config.js';
import { DECODER_GRAPH_OPSET } from '../engines/ort-decoder/decoder-graph.js';
import { maskOutputsInGraph, type MaskOutputKind } from '../engines/ort-decoder/postprocess-graph.js';

/**
 * Records the graph. Inputs: `low_res_masks [B,M,256,256]` float32 (unclamped logits),
 * `original_size [2]` int64 (H,W). Outputs as `recordPostprocessGraph`'s for `kind`.
 * @param maskThreshold logit threshold of `binary` / `rle`
 */
export function recordSam2PostprocessGraph(maskThreshold: number, kind: MaskOutputKind): OnnxGraphOps {
  const ops = new OnnxGraphOps(
    new Map(),
    new OnnxGraphBuilder({ name: `samtune_sam2_postprocess_${kind}`, opset: DECODER_GRAPH_OPSET }),
  );
  const low = ops.input('low_res_masks', ['batch', 'masks', LOW_RES_SIZE, LOW_RES_SIZE]);
  const originalSize = ops.input('original_size', [2], 'int64');
  const logits = ops.scoped('postprocess', () => {
    const bm = ops.emit('Shape', [low], [2], { start: 0, end: 2 });
    const sizes = ops.emit('Concat', [bm.name, originalSize.name], [4], { axis: 0 });
    const attrs = { mode: 'linear', coordinate_transformation_mode: 'half_pixel' };
    return ops.emit('Resize', [low.name, '', '', sizes.name], [-1, -1, -1, -1], attrs);
  });
  maskOutputsInGraph(ops, logits, kind, maskThreshold);
  return ops;
}
