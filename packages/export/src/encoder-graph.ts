/**
 * The image encoder as ONNX, two variants recorded from the one `imageEncoder` definition:
 * - `images`: input `images [1,3,S,S]`, normalised and zero-padded (sam-model's encoder model);
 * - `rgb`: input `input_image [h,w,3]` float32 0-255, resized to longest side S but NOT padded
 *   (h, w dynamic, <= S); normalises THEN pads inside the graph (the official order, padding 0 after
 *   normalisation), like the official `ImageEncoderOnnxModel(use_preprocess=True)`. Handy in browsers.
 * Output `image_embeddings [1,256,S/16,S/16]` for both.
 */
import {
  imageEncoder,
  prepareImageEncoderWeights,
  recordImageEncoderGraph,
  IMAGE_ENCODER_PREFIX,
  type SamConfig,
  type WeightMap,
} from '@samtune/sam-model';
import { OnnxGraphBuilder, OnnxGraphOps } from '@samtune/onnx';
import { ENCODER_OUTPUT, ENCODER_RGB_INPUT, EXPORT_OPSET, type EncoderVariant } from './contract.js';
import { normalizeAndPadInGraph } from './graph-steps.js';

/**
 * Records the encoder graph of `variant` (see the module doc).
 * @param weights checkpoint weights; only `image_encoder.*` are read.
 */
export function recordEncoderGraph(config: SamConfig, weights: WeightMap, variant: EncoderVariant): OnnxGraphOps {
  const enc = config.imageEncoder;
  const own: WeightMap = new Map([...weights].filter(([k]) => k.startsWith(IMAGE_ENCODER_PREFIX)));
  if (variant === 'images') return recordImageEncoderGraph(enc, own);
  const ops = new OnnxGraphOps(
    prepareImageEncoderWeights(enc, own),
    new OnnxGraphBuilder({ name: 'samtune_image_encoder_rgb', opset: EXPORT_OPSET }),
  );
  ops.builder.setMetadata('samtune.image_encoder_config', JSON.stringify(enc));
  const image = ops.input(ENCODER_RGB_INPUT, ['height', 'width', enc.inChans]);
  const images = normalizeAndPadInGraph(ops, image, config.pixelMean, config.pixelStd, enc.imgSize);
  const out = ops.scoped('image_encoder', () => imageEncoder(ops, enc, images));
  ops.output(ENCODER_OUTPUT, out);
  return ops;
}
