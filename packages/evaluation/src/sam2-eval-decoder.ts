/**
 * Validation and `eval` on a SAM 2.1 model, one prompt at a time as `SAM2ImagePredictor.predict`
 * does (single-mask calls with the stability fallback; a multimask prompt keeps the highest
 * predicted IoU), decoded by a tfjs `Sam2Predictor` (`sam2EvalDecoder`) or on onnxruntime by
 * sam-model's `Sam2OrtDecoder` (`sam2OrtEvalDecoder`, the ORT path). The validation loss is not computed
 * for SAM 2.1 (NaN): the SAM 2 loss needs the object-score logits, which the predictor's public result
 * does not carry.
 */
import {
  Sam2OrtDecoder,
  selectMaskIndex,
  useMultimask,
  type Sam2OrtDecoderConfig,
  type Sam2Predictor,
  type Sam2PredictorFeatures,
  type WeightMap,
} from '@samtune/sam-model';
import { logitsToMask } from '@samtune/transforms';
import {
  clicksOnOrt,
  decodeOnOrt,
  type DecodedChunk,
  type EvalDecoder,
  type EvalFeatures,
  type PredictedMask,
} from './eval-decoder.js';
import { EvaluateError } from './evaluate-error.js';

/**
 * Decodes on `predictor`; with `weights` (`mask_decoder.*`, e.g. a training state's) they are loaded
 * into it first. The predictor stays the caller's.
 */
export function sam2EvalDecoder(predictor: Sam2Predictor, weights?: WeightMap): EvalDecoder {
  if (weights) predictor.setMaskDecoderWeights(weights);
  return {
    async decode(chunk, _batch, features, geometry) {
      const input = sam2Features('sam2EvalDecoder', features);
      const [H, W] = geometry.originalSize;
      const low = new Float32Array(chunk.length * 65536);
      const scores = new Float32Array(chunk.length);
      const masks: PredictedMask[] = [];
      for (const [k, p] of chunk.entries()) {
        const points = (p.points ?? []).map(([x, y]) => [x, y] as [number, number]);
        const multimask = useMultimask({ hasBox: p.box !== undefined, numPoints: points.length });
        const r = predictor.predict(
          input,
          p.box ? { box: [...p.box] } : { points, labels: points.map(() => 1) },
          geometry.originalSize,
          { multimask, returnMasks: true },
        );
        const best = selectMaskIndex(r.iouPredictions.data);
        low.set(r.lowResMasks.data.subarray(best * 65536, (best + 1) * 65536), k * 65536);
        scores[k] = r.iouPredictions.data[best] as number;
        const logits = (r.masks as { data: Float32Array }).data.slice(best * H * W, (best + 1) * H * W);
        masks.push({ binary: logitsToMask(logits, W, H).data, logits });
      }
      return { low, scores, masks } satisfies DecodedChunk;
    },
    loss: () => Number.NaN,
    release: async () => {},
  };
}

/** A cache entry's features in the SAM 2.1 decoder's form; throws naming `fn` without the high-res levels. */
function sam2Features(fn: string, features: EvalFeatures): Sam2PredictorFeatures {
  if (!features.highResFeats)
    throw new EvaluateError(
      `${fn}.decode(features): a SAM 2.1 model needs the cache entry’s high_res_feats.0/.1, the entry has none`,
    );
  return { imageEmbedding: features.embedding, highResFeatures: features.highResFeats };
}

/**
 * Decodes on onnxruntime (`Sam2OrtDecoder`, masks at the original size from its post-processing
 * graph) from `weights`: samtune-named decoder side (`sam2PredictorWeights`), with a training
 * state's `mask_decoder.*` merged in by the caller. The loss is NaN (module comment).
 */
export function sam2OrtEvalDecoder(config: Sam2OrtDecoderConfig, weights: WeightMap): EvalDecoder {
  const ort = new Sam2OrtDecoder(weights, config);
  return {
    decode: (chunk, _batch, features, geometry, withLogits) =>
      decodeOnOrt(ort, chunk, sam2Features('sam2OrtEvalDecoder', features), geometry.originalSize, withLogits),
    loss: () => Number.NaN,
    decodeClicks: (features, originalSize, clicks, maskInput) =>
      clicksOnOrt(ort, sam2Features('sam2OrtEvalDecoder', features), originalSize, clicks, maskInput),
    release: () => ort.release(),
  };
}
