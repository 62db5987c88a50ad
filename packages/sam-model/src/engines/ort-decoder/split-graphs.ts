/**
 * The decoder (without a mask input) split in two graphs for the in-process ORT engine, so that the
 * work which depends on the image embedding alone runs once per embedding and not once per prompt:
 * - the image-side graph (`recordImageSideGraph`): `image_embeddings [1,C,h,w]` -> the transformer's
 *   flattened keys `image + no_mask_embed` and block 0's image-side projections
 *   (`maskDecoderImageSide`);
 * - the prompt graph (`recordPromptGraph`): those outputs + the points -> all 1+M masks and IoU
 *   (`predictMasksOnImageSide`); the flattened dense positional encoding is an initializer.
 * Together they compute the same values as `recordDecoderGraph({ maskInput: false })`.
 */
import type { PromptEncoderConfig, SamConfig } from '../../config.js';
import { maskDecoderImageSide, predictMasksOnImageSide } from '../../mask-decoder.js';
import { DENSE_PE_KEY, embedPoints, encodeCoords, noMaskDense } from '../../prompt-encoder.js';
import { OnnxGraphBuilder, OnnxGraphOps, type OnnxValue } from '@samtune/onnx';
import { type WeightMap } from '@samtune/tensor';
import { DECODER_GRAPH_OPSET, decoderSideWeights } from './decoder-graph.js';
import { upscaleMasksChannelsLast } from './upscale.js';
import { croppedMaskUpscaler } from './cropped-head.js';
import { WasmGraphOps } from './wasm-ops.js';

/** Names of the image-side graph's outputs = the prompt graph's image inputs, in this order. */
export const IMAGE_SIDE_NAMES = ['image_keys', 't2i_k', 't2i_v', 'i2t_q'] as const;
/** One of `IMAGE_SIDE_NAMES`. */
export type ImageSideName = (typeof IMAGE_SIDE_NAMES)[number];

function decoderOps(config: SamConfig, weights: WeightMap, name: string, opts: SplitGraphOptions = {}): OnnxGraphOps {
  const args = [
    decoderSideWeights(config.promptEncoder, weights),
    new OnnxGraphBuilder({ name, opset: DECODER_GRAPH_OPSET }),
    { gemmLinear: true },
  ] as const;
  return opts.wasm ? new WasmGraphOps(...args, { tanhGelu: opts.tanhGelu === true }) : new OnnxGraphOps(...args);
}

/** `[1, h*w, inner]` shapes of the image-side values. */
function imageSideShapes(config: SamConfig): Record<ImageSideName, number[]> {
  const [eh, ew] = config.promptEncoder.imageEmbeddingSize;
  const c = config.maskDecoder.transformerDim;
  const inner = c / config.maskDecoder.attentionDownsampleRate;
  const hw = eh * ew;
  return { image_keys: [1, hw, c], t2i_k: [1, hw, inner], t2i_v: [1, hw, inner], i2t_q: [1, hw, inner] };
}

/** Options of the split graphs (`recordImageSideGraph`, `recordPromptGraph`). */
export interface SplitGraphOptions {
  /**
   * Record them for onnxruntime-web's wasm kernels, the page's decoder (same values, float32
   * rounding aside): the image side computes the dense positional encoding in the graph from the
   * `[2, C/2]` Gaussian matrix instead of storing it (`densePeInGraph`: 4 MiB less to download; the
   * prompt graph keeps its copy), and the prompt graph records its LayerNorms as `WasmGraphOps` does
   * (faster there; onnxruntime-node's native `LayerNormalization` is the fast one on the server).
   * Default false.
   */
  readonly wasm?: boolean;
  /**
   * With `wasm`: the prompt graph's GELUs in the tanh form (`WasmGraphOpsOptions.tanhGelu`: an
   * approximation within 4.7e-4, ~2.3x faster in onnxruntime-web). Default false.
   */
  readonly tanhGelu?: boolean;
}

/**
 * `densePositionalEncoding` recorded in the graph: `encodeCoords` (the prompt encoder's
 * projection, written once) of the grid's cell centres in the input frame, `[1,h*w,C]` ->
 * `[1, C, h, w]`. Same values as the stored `dense_pe`, float32 rounding aside.
 */
export function densePeInGraph(ops: OnnxGraphOps, cfg: PromptEncoderConfig): OnnxValue {
  const [h, w] = cfg.imageEmbeddingSize;
  const [inH, inW] = cfg.inputImageSize;
  const centres = new Float32Array(2 * h * w);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) centres.set([((j + 0.5) / w) * inW, ((i + 0.5) / h) * inH], 2 * (i * w + j));
  const pe = encodeCoords(ops, cfg, ops.constant(centres, [1, h * w, 2], 'pe_grid'));
  return ops.reshape(ops.transpose(pe, [0, 2, 1]), [1, -1, h, w]);
}

/**
 * Records the image-side graph. Input `image_embeddings [1,C,h,w]` float32; outputs (float32)
 * `image_keys [1,h*w,C]` (`image + no_mask_embed`, flattened), `t2i_k`, `t2i_v` (block 0's
 * token->image k/v projections), `i2t_q` (block 0's image->token q projection), each `[1,h*w,C/2]`.
 */
export function recordImageSideGraph(
  config: SamConfig,
  weights: WeightMap,
  opts: SplitGraphOptions = {},
): OnnxGraphOps {
  const ops = decoderOps(config, weights, 'samtune_decoder_image_side');
  const pe = config.promptEncoder;
  const [eh, ew] = pe.imageEmbeddingSize;
  const embeddings = ops.input('image_embeddings', [1, pe.embedDim, eh, ew]);
  const side = ops.scoped('mask_decoder', () =>
    maskDecoderImageSide(ops, config.maskDecoder, {
      imageEmbeddings: embeddings,
      imagePe: opts.wasm ? ops.scoped('prompt_encoder', () => densePeInGraph(ops, pe)) : ops.param(DENSE_PE_KEY),
      dense: ops.scoped('prompt_encoder', () => noMaskDense(ops, pe, 1)),
    }),
  );
  const shapes = imageSideShapes(config);
  ops.output('image_keys', side.keys, shapes.image_keys);
  ops.output('t2i_k', side.block0.tokenToImageK, shapes.t2i_k);
  ops.output('t2i_v', side.block0.tokenToImageV, shapes.t2i_v);
  ops.output('i2t_q', side.block0.imageToTokenQ, shapes.i2t_q);
  return ops;
}

/** Options of `recordPromptGraph`. */
export interface PromptGraphOptions extends SplitGraphOptions {
  /**
   * Take `head_size [2]` int64 (grid rows, cols: `headSizeFor`) and upscale only that top-left part
   * of the grid (`croppedMaskUpscaler`): `low_res_masks [1,1+M,4*rows,4*cols]`, the same values as
   * that region of the whole masks, and all the post-processing reads. Default false.
   */
  readonly cropHead?: boolean;
}

/**
 * Records the prompt graph. Inputs (float32): the `IMAGE_SIDE_NAMES` values, `point_coords [1,N,2]`
 * (1024 frame, XY, box corners labelled 2/3, padding point included by the caller), `point_labels
 * [1,N]`, then with `cropHead` `head_size [2]` int64. Outputs: `iou_predictions [1,1+M]`,
 * `low_res_masks [1,1+M,4h,4w]` (all tokens; `[1,1+M,4*rows,4*cols]` with `cropHead`).
 */
export function recordPromptGraph(config: SamConfig, weights: WeightMap, opts: PromptGraphOptions = {}): OnnxGraphOps {
  const ops = decoderOps(config, weights, 'samtune_decoder_prompt', opts);
  const pe = config.promptEncoder;
  const [eh, ew] = pe.imageEmbeddingSize;
  const shapes = imageSideShapes(config);
  const [keys, k, v, q] = IMAGE_SIDE_NAMES.map((n) => ops.input(n, shapes[n])) as [
    OnnxValue,
    OnnxValue,
    OnnxValue,
    OnnxValue,
  ];
  const coords = ops.input('point_coords', [1, 'num_points', 2]);
  const labels = ops.input('point_labels', [1, 'num_points']);
  const headSize = opts.cropHead ? ops.input('head_size', [2], 'int64') : undefined;
  const sparse = ops.scoped('prompt_encoder', () => embedPoints(ops, pe, coords, labels, false));
  const c = pe.embedDim;
  // [1,C,h,w] -> [1,h*w,C]: a Reshape + Transpose of an initializer, folded to a constant by ORT.
  const keyPe = ops.transpose(ops.reshape(ops.param(DENSE_PE_KEY), [1, c, eh * ew]), [0, 2, 1]);
  const all = ops.scoped('mask_decoder', () =>
    predictMasksOnImageSide(
      ops,
      config.maskDecoder,
      { keys, keyPe, block0: { tokenToImageK: k, tokenToImageV: v, imageToTokenQ: q } },
      sparse,
      [eh, ew],
      { upscale: headSize ? croppedMaskUpscaler(ops, headSize) : upscaleMasksChannelsLast, reassociate: true },
    ),
  );
  const m = config.maskDecoder.numMultimaskOutputs + 1;
  ops.output('iou_predictions', all.iou, [1, m]);
  ops.output('low_res_masks', all.masks, headSize ? [1, m, 'low_res_rows', 'low_res_cols'] : [1, m, 4 * eh, 4 * ew]);
  return ops;
}
