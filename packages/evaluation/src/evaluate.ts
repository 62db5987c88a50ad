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
import * as tf from '@tensorflow/tfjs';
import { samLossOn } from '@samtune/losses';
import { TfjsOps } from '@samtune/sam-model/modeling';
import { OrtDecoder, Sam2Predictor, type SamPredictor, type WeightMap } from '@samtune/sam-model';
import { logitsToMask, lowResToOriginal, ResizeGeometry } from '@samtune/transforms';
import type { CachedEmbedding, EmbeddingCache } from './embedding-cache.js';
import { MaskApAccumulator, type ApDetection, type ApGroundTruth } from './mask-ap.js';
import { MetricAccumulator } from './metrics.js';
import { selectMaskIndex, useMultimask } from '@samtune/sam-model';
import {
  buildPrompts,
  chunks,
  toDecoderBatch,
  type SampleOptions,
  type TargetStore,
  type TrainItem,
} from './samples.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

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
}

export interface EvaluateOptions {
  /**
   * SAM 1, or a SAM 2.1 `Sam2Predictor` (then decoded on tfjs with `SAM2ImagePredictor`'s rules, from
   * a `sam2` cache whose entries carry the high-res levels; `weights` and the loss do not apply: the
   * low-res targets are in SAM 1's padded frame, so `EvalResult.loss` is NaN).
   */
  readonly predictor: SamPredictor | Sam2Predictor;
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
   * Compute the low-res loss (default `true`): one tfjs pass over the chosen `[B,1,256,256]` logits per
   * chunk; `false` skips it and `EvalResult.loss` is NaN.
   */
  readonly loss?: boolean;
  /** Called after each image. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Receives each instance's logits at the original size `(H,W)` (e.g. to save predictions). */
  readonly onPrediction?: (item: TrainItem, instanceId: string, logits: Float32Array) => void;
}

/** Thrown when an instance's mask cannot be found again at evaluation time. */
export class EvaluateError extends SamtuneError {
  readonly code: string = 'evaluate';
  readonly kind: ErrorKind = 'input';
  override readonly name = 'EvaluateError';
}

/** Evaluates `predictor` on `items` (see the module comment). */
export async function evaluate(options: EvaluateOptions): Promise<EvalResult> {
  const { predictor } = options;
  if (predictor instanceof Sam2Predictor) return evaluateWith({ ...options, loss: false }, undefined);
  const ort = options.weights
    ? new OrtDecoder(
        predictor.config,
        new Map([...options.weights, ...(options.decoderWeights ?? predictor.maskDecoderWeights())]),
      )
    : undefined;
  try {
    return await evaluateWith(options, ort);
  } finally {
    await ort?.release();
  }
}

async function evaluateWith(options: EvaluateOptions, ort: OrtDecoder | undefined): Promise<EvalResult> {
  const { predictor, cache, targets, items, prompt, maxInstances, microBatch, onProgress, onPrediction } = options;
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
      const sam2 = predictor instanceof Sam2Predictor ? predictor : undefined;
      const emb = ort || sam2 ? undefined : tf.tensor(cached.embedding.data, [...cached.embedding.shape]);
      const gts: ApGroundTruth[] = [];
      const dets: ApDetection[] = [];
      try {
        for (const chunk of chunks(prompts, microBatch)) {
          const { batch, targets: tgt } = toDecoderBatch(chunk, geometry);
          const decoded = sam2
            ? decodeOnSam2(sam2, chunk, cached)
            : ort
              ? await decodeOnOrt(ort, chunk, cached.embedding, cached.originalSize, onPrediction !== undefined)
              : decodeOnTfjs(predictor as SamPredictor, emb as tf.Tensor, batch, geometry);
          if (withLoss) lossSum += lowResLoss(decoded, tgt, batch.size) * batch.size;
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
      } finally {
        emb?.dispose();
      }
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

/** One prompt's prediction at the original size `(H,W)`. */
interface PredictedMask {
  /** 0/1 (logit > 0). */
  readonly binary: Uint8Array;
  /** The logits, only where `onPrediction` asked for them. */
  readonly logits?: Float32Array;
}

/** A chunk's decoded prompts: chosen low-res logits `[B,256,256]`, their IoU `[B]`, masks at `(H,W)`. */
interface DecodedChunk {
  readonly low: Float32Array;
  readonly scores: Float32Array;
  readonly masks: readonly PredictedMask[];
}

/**
 * The training loss of a chunk's chosen low-res logits against its targets `[B,1,256,256]`. Only the
 * low-res planes enter the tidy, and a number leaves it: nothing at the original size is ever handed
 * to tfjs (its tidy walks every element of what it returns).
 */
/** The executor of the loss (`@samtune/losses`' one definition): plain tfjs ops, no weights. */
const TFJS = new TfjsOps(new Map());

function lowResLoss(decoded: DecodedChunk, targets: Float32Array, size: number): number {
  return tf.tidy(
    () =>
      samLossOn(
        TFJS,
        tf.tensor(decoded.low, [size, 1, 256, 256]),
        tf.tensor(decoded.scores, [size, 1]),
        tf.tensor(targets, [size, 1, 256, 256]),
      ).loss.dataSync()[0] as number,
  );
}

/** The chunk on the tfjs predictor (the reference path), with the mask-selection rule. */
function decodeOnTfjs(
  predictor: SamPredictor,
  emb: tf.Tensor,
  batch: ReturnType<typeof toDecoderBatch>['batch'],
  geometry: ResizeGeometry,
): DecodedChunk {
  const multimask = useMultimask({ hasBox: batch.boxes !== undefined, numPoints: batch.numPoints });
  const [chosen, chosenIou] = tf.tidy(() => {
    const { masks, iou: pred } = predictor.decode(
      emb,
      batch.boxes
        ? { boxes: tf.tensor(batch.boxes, [batch.size, 4]) }
        : {
            coords: tf.tensor(batch.coords as Float32Array, [batch.size, batch.numPoints, 2]),
            labels: tf.tensor(batch.labels as Float32Array, [batch.size, batch.numPoints]),
          },
      multimask,
    );
    const m = masks.shape[1] as number;
    const iouHost = pred.dataSync();
    const pick = Array.from(
      { length: batch.size },
      (_, b) => b * m + selectMaskIndex(iouHost.subarray(b * m, (b + 1) * m)),
    );
    const flat = tf.reshape(masks, [batch.size * m, 256, 256]);
    return [tf.gather(flat, pick), tf.gather(tf.reshape(pred, [-1]), pick)] as const;
  });
  const low = chosen.dataSync() as Float32Array;
  const scores = chosenIou.dataSync() as Float32Array;
  tf.dispose([chosen, chosenIou]);
  const masks = Array.from({ length: batch.size }, (_, k) => {
    const logits = lowResToOriginal(low.subarray(k * 65536, (k + 1) * 65536), geometry);
    const [H, W] = geometry.originalSize;
    return { binary: logitsToMask(logits, W, H).data, logits };
  });
  return { low, scores, masks };
}

/**
 * The chunk's prompts on a SAM 2.1 predictor, one call each (`SAM2ImagePredictor.predict`: single-mask
 * calls with the stability fallback); a multimask prompt (one point) keeps the highest predicted IoU.
 */
function decodeOnSam2(
  predictor: Sam2Predictor,
  chunk: readonly {
    readonly box?: readonly [number, number, number, number];
    readonly points?: readonly (readonly [number, number])[];
  }[],
  cached: CachedEmbedding,
): DecodedChunk {
  if (!cached.highResFeats)
    throw new EvaluateError(
      `evaluate(${cached.path}): a SAM 2.1 predictor needs the cache entry's high_res_feats.0/.1, the entry has none`,
    );
  const features = { imageEmbedding: cached.embedding, highResFeatures: cached.highResFeats };
  const [H, W] = cached.originalSize;
  const low = new Float32Array(chunk.length * 65536);
  const scores = new Float32Array(chunk.length);
  const masks: PredictedMask[] = [];
  for (const [k, p] of chunk.entries()) {
    const points = (p.points ?? []).map(([x, y]) => [x, y] as [number, number]);
    const multimask = useMultimask({ hasBox: p.box !== undefined, numPoints: points.length });
    const r = predictor.predict(
      features,
      p.box ? { box: [...p.box] } : { points, labels: points.map(() => 1) },
      cached.originalSize,
      { multimask, returnMasks: true },
    );
    const best = selectMaskIndex(r.iouPredictions.data);
    low.set(r.lowResMasks.data.subarray(best * 65536, (best + 1) * 65536), k * 65536);
    scores[k] = r.iouPredictions.data[best] as number;
    const logits = (r.masks as { data: Float32Array }).data.slice(best * H * W, (best + 1) * H * W);
    masks.push({ binary: logitsToMask(logits, W, H).data, logits });
  }
  return { low, scores, masks };
}

/**
 * The chunk's prompts on the ORT engine, one call each, with the mask-selection rule (`'auto'`). The
 * masks at the original size come from the post-processing graph already thresholded (`binary`), or
 * as logits when `withLogits` (then thresholded here).
 */
async function decodeOnOrt(
  ort: OrtDecoder,
  chunk: readonly {
    readonly box?: readonly [number, number, number, number];
    readonly points?: readonly (readonly [number, number])[];
  }[],
  embedding: Parameters<OrtDecoder['predict']>[0],
  originalSize: readonly [number, number],
  withLogits: boolean,
): Promise<DecodedChunk> {
  const low = new Float32Array(chunk.length * 65536);
  const scores = new Float32Array(chunk.length);
  const masks: PredictedMask[] = [];
  for (const [k, p] of chunk.entries()) {
    const prompts = p.box ? { box: p.box } : { points: p.points ?? [], labels: (p.points ?? []).map(() => 1) };
    const r = await ort.predict(embedding, prompts, originalSize, {
      multimask: 'auto',
      maskOutput: withLogits ? 'logits' : 'binary',
    });
    low.set(r.lowResMasks.data, k * 65536);
    scores[k] = r.iouPredictions.data[0] as number;
    if (withLogits) {
      const logits = (r.masks as { data: Float32Array }).data;
      masks.push({ binary: logitsToMask(logits, originalSize[1], originalSize[0]).data, logits });
    } else masks.push({ binary: (r.binaryMasks as { data: Uint8Array }).data });
  }
  return { low, scores, masks };
}
