/**
 * Evaluation of a predictor on a subset, with the reference's metrics: pixel-level binary F1, IoU and
 * Dice, micro-averaged over all instance masks (`MetricAccumulator`), at the ORIGINAL image size,
 * threshold 0.5 on the probability (logit > 0). Prompts are deterministic: the instance's tight box
 * (or its interior point in point mode), never jittered. The low-res logits go through SAM's
 * `postprocess_masks` (`lowResToOriginal`); a multimask output keeps the mask with the highest
 * predicted IoU (`selectMaskIndex`). Each original mask is decoded when needed and dropped after.
 * The low-res loss (same as training) is reported too, and COCO mask AP (`mask-ap.ts`): each
 * instance's mask is a detection scored by its predicted IoU, matched against the image's instances.
 */
import type { ClicksResult } from './clicks-to-quality.js';
import { Sam2Predictor, type SamPredictor, type WeightMap } from '@samtune/sam-model';
import { ResizeGeometry } from '@samtune/transforms';
import type { EmbeddingCache } from './embedding-cache.js';
import { ortEvalDecoder, tfjsEvalDecoder, type EvalDecoder, type PredictedMask } from './eval-decoder.js';
import { sam2EvalDecoder, sam2OrtEvalDecoder } from './sam2-eval-decoder.js';
import { EvaluateError } from './evaluate-error.js';
import { MaskApAccumulator, type ApDetection, type ApGroundTruth } from './mask-ap.js';
import { MetricAccumulator } from './metrics.js';
import {
  buildPrompts,
  chunks,
  toDecoderBatch,
  type SampleOptions,
  type TargetStore,
  type TrainItem,
} from '@samtune/training-data';

/** Metrics of one evaluation (the CLI's `--json` shape, plus the loss). */
export interface EvalResult {
  readonly f1: number;
  readonly iou: number;
  readonly dice: number;
  /** Images evaluated. */
  readonly images: number;
  /** Instance masks evaluated. */
  readonly instances: number;
  /** Crowd instances (`iscrowd`) among `instances` (crowd policy `keep`; absent in older run records). */
  readonly crowd?: number;
  /** Crowd instances left out of the evaluated images (crowd policy `ignore`; absent in older run records). */
  readonly crowdIgnored?: number;
  /** Mean low-res loss (20*focal + dice + iou_mse) over the instances; NaN with `loss: false`. */
  readonly loss: number;
  /** COCO mask AP@[.5:.95] (`mask-ap.ts`), detections scored by the predicted IoU; NaN without instances. */
  readonly ap: number;
  /** COCO mask AP at IoU 0.50. */
  readonly ap50: number;
  /** COCO mask AP at IoU 0.75. */
  readonly ap75: number;
  /** Clicks-to-quality of the same instances, where measured (the trainer's `data.val.clicks`). */
  readonly clicks?: ClicksResult;
}

export interface EvaluateOptions {
  /**
   * SAM 1, or a SAM 2.1 `Sam2Predictor` (then decoded with `SAM2ImagePredictor`'s rules, from a
   * `sam2` cache whose entries carry the high-res levels; with `weights` (samtune-named decoder side,
   * `sam2PredictorWeights`) on onnxruntime (`Sam2OrtDecoder`), else on tfjs. The loss does not apply:
   * the low-res targets are in SAM 1's padded frame, so `EvalResult.loss` is NaN).
   */
  readonly predictor: SamPredictor | Sam2Predictor;
  /**
   * What decodes the prompts and computes the loss (the trainer passes its engine's,
   * `TrainEngine.evalDecoder`; the caller releases it). Given, `weights` and `decoderWeights` are unused.
   */
  readonly decoder?: EvalDecoder;
  /**
   * The checkpoint's weights. Given, the prompts are decoded on onnxruntime-node (sam-model's
   * `OrtDecoder`, built for this call from these weights with the predictor's CURRENT mask-decoder
   * weights; masks at the original size come from its graph); absent, on the tfjs `predictor`.
   */
  readonly weights?: WeightMap;
  /** With `weights`: the mask decoder's weights to decode with (default: the predictor's current ones). */
  readonly decoderWeights?: WeightMap;
  readonly cache: EmbeddingCache;
  readonly targets: TargetStore;
  readonly items: readonly TrainItem[];
  readonly prompt: SampleOptions;
  /** Instances per image (the first ones), 0 = all. */
  readonly maxInstances: number;
  /** Prompts per decoder call. */
  readonly microBatch: number;
  /**
   * Compute the low-res loss (default `true`): one pass of the decoder's loss over the chosen
   * `[B,1,256,256]` logits per chunk; `false` skips it and `EvalResult.loss` is NaN.
   */
  readonly loss?: boolean;
  /** Called after each image. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Receives each instance's logits at the original size `(H,W)` (e.g. to save predictions). */
  readonly onPrediction?: (item: TrainItem, instanceId: string, logits: Float32Array) => void;
}

/** Evaluates `predictor` (or `options.decoder`) on `items` (see the module comment). */
export async function evaluate(options: EvaluateOptions): Promise<EvalResult> {
  if (options.decoder) return evaluateWith(options, options.decoder);
  const { predictor } = options;
  const weights = options.weights
    ? new Map([...options.weights, ...(options.decoderWeights ?? predictor.maskDecoderWeights())])
    : undefined;
  const decoder =
    predictor instanceof Sam2Predictor
      ? weights
        ? sam2OrtEvalDecoder(predictor.config, weights)
        : sam2EvalDecoder(predictor)
      : weights
        ? ortEvalDecoder(predictor.config, weights)
        : tfjsEvalDecoder(predictor);
  try {
    return await evaluateWith(options, decoder);
  } finally {
    await decoder.release();
  }
}

async function evaluateWith(options: EvaluateOptions, decoder: EvalDecoder): Promise<EvalResult> {
  const { cache, targets, items, prompt, maxInstances, microBatch, onProgress, onPrediction } = options;
  const withLoss = options.loss ?? true;
  const acc = new MetricAccumulator();
  const ap = new MaskApAccumulator();
  let lossSum = 0;
  let images = 0;
  let crowd = 0;
  let crowdIgnored = 0;
  for (const [i, item] of items.entries()) {
    const { targets: t, skippedCrowd } = await targets.get(item);
    crowdIgnored += skippedCrowd;
    const prompts = buildPrompts(item, t, prompt, maxInstances);
    if (prompts.length > 0) {
      images++;
      const cached = await cache.get(item.imagePath);
      const geometry = new ResizeGeometry(cached.originalSize);
      if (cached.originalSize[0] !== item.height || cached.originalSize[1] !== item.width) {
        throw new EvaluateError(
          `evaluate(${item.imagePath}): embedding was made from an image of (H,W)=(${cached.originalSize.join(',')}), the dataset says (${item.height},${item.width})`,
        );
      }
      const byId = new Map(item.instances.map((inst) => [inst.id, inst]));
      const gts: ApGroundTruth[] = [];
      const dets: ApDetection[] = [];
      for (const chunk of chunks(prompts, microBatch)) {
        const { batch, targets: tgt } = toDecoderBatch(chunk, geometry);
        const decoded = await decoder.decode(chunk, batch, cached, geometry, onPrediction !== undefined);
        if (withLoss) lossSum += decoder.loss(decoded, tgt, batch.size) * batch.size;
        for (const [k, p] of chunk.entries()) {
          const inst = byId.get(p.target.instanceId);
          if (!inst)
            throw new EvaluateError(
              `evaluate(${item.imagePath}): instance '${p.target.instanceId}' disappeared from the item`,
            );
          const pred = decoded.masks[k] as PredictedMask;
          if (pred.logits) onPrediction?.(item, inst.id, pred.logits);
          if (inst.iscrowd) crowd++;
          const mask = await inst.mask();
          acc.add(pred.binary, mask.data, 'logits', `${item.imagePath}#${inst.id}`);
          const category = inst.label?.id ?? 0;
          gts.push({ category, mask: mask.data });
          dets.push({ category, score: decoded.scores[k] as number, mask: pred.binary });
        }
      }
      ap.addImage(gts, dets, item.imagePath);
    }
    onProgress?.(i + 1, items.length);
  }
  const m = acc.compute();
  const a = ap.compute();
  return {
    f1: m.f1,
    iou: m.iou,
    dice: m.dice,
    images,
    instances: m.instances,
    crowd,
    crowdIgnored,
    loss: withLoss && m.instances > 0 ? lossSum / m.instances : Number.NaN,
    ap: a.ap,
    ap50: a.ap50,
    ap75: a.ap75,
  };
}
