/**
 * Verification of a written transformers.js `sam2` decoder: run by onnxruntime with the feeds
 * transformers.js builds, against the tfjs `Sam2Predictor` on the same weights (see
 * `verifySam2TransformersJsDecoder`).
 */
import {
  clampLogits,
  compareTensors,
  sam2ApplyCoords,
  Sam2Predictor,
  sam2PredictorWeights,
  selectMaskIndex,
  useMultimask,
  type Agreement,
  type Box,
  type FloatTensor,
  type HostTensor,
  type Point,
  type Sam2PredictorFeatures,
} from '@samtune/sam-model';
import { createSession } from '@samtune/onnx';
import { floatTensor } from '@samtune/tensor';
import type { DecoderVariant } from './contract.js';
import type { VerificationSummary } from './model-json.js';
import type { Sam2ExportOptions, Sam2ExportSource } from './sam2-export.js';
import { TJS_SAM2_NAMES } from './transformers-js-sam2-graphs.js';
import { failVerification, WorstRatios } from './verify-common.js';

/** A verification prompt in original pixels of `verificationImage()`. */
interface TjsSam2Case {
  readonly name: string;
  readonly points: Point[];
  readonly labels: number[];
  readonly box?: Box;
}

function verificationCases(h: number, w: number): TjsSam2Case[] {
  return [
    { name: 'one_point', points: [[w / 2, h / 2]], labels: [1] },
    { name: 'box', points: [], labels: [], box: [w / 4, h / 4, (3 * w) / 4, (3 * h) / 4] },
    { name: 'box_and_point', points: [[w / 3, h / 2]], labels: [0], box: [w / 5, h / 5, (4 * w) / 5, (3 * h) / 4] },
    {
      name: 'two_points',
      points: [
        [w / 3, h / 3],
        [(2 * w) / 3, (2 * h) / 3],
      ],
      labels: [1, 0],
    },
  ];
}

/**
 * The decoder's feeds as transformers.js builds them: prompts in the S frame, `input_boxes [1,0,4]`
 * without a box, `input_points [1,1,0,2]` / `input_labels [1,1,0]` without points.
 */
export function sam2TransformersJsDecoderFeeds(
  features: Sam2PredictorFeatures,
  points: ArrayLike<number>,
  labels: readonly number[],
  box?: ArrayLike<number>,
): Record<string, HostTensor> {
  const [e0, e1, e2] = TJS_SAM2_NAMES.embeddings;
  const n = labels.length;
  return {
    [e0]: features.highResFeatures[0],
    [e1]: features.highResFeatures[1],
    [e2]: features.imageEmbedding,
    [TJS_SAM2_NAMES.inputPoints]: floatTensor(Float32Array.from(points), [1, 1, n, 2]),
    [TJS_SAM2_NAMES.inputLabels]: { dtype: 'int64', shape: [1, 1, n], data: BigInt64Array.from(labels.map(BigInt)) },
    [TJS_SAM2_NAMES.inputBoxes]: floatTensor(Float32Array.from(box ?? []), [1, box ? 1 : 0, 4]),
  };
}

/** Row `k` of `[1,M,…]` as `[1,1,…]`. */
function row(t: FloatTensor, k: number): FloatTensor {
  const m = t.shape[1] as number;
  const n = t.data.length / m;
  return floatTensor(t.data.slice(k * n, (k + 1) * n), [1, 1, ...t.shape.slice(2)]);
}

/** Reference outputs of one mask token: low-res logits `[1,1,256,256]` and IoU `[1,1]`. */
interface TokenRef {
  readonly mask: FloatTensor;
  readonly iou: FloatTensor;
}

/**
 * The tfjs reference of one prompt: tokens 1..3 (a multimask call), the single-mask call's token
 * (token 0 or its stability fallback), and which tokens a `single_mask` graph may return: the rule's,
 * or on a near tie (the IoUs of 1..3 within tolerance; token 0 against the best when the stability
 * score sits on the threshold) the other one, since ORT and tfjs logits differ in the last bits.
 */
function referenceOf(
  predictor: Sam2Predictor,
  features: Sam2PredictorFeatures,
  c: TjsSam2Case,
  originalSize: readonly [number, number],
): { multi: TokenRef; tokens: Map<number, TokenRef>; candidates: number[]; objectScore: FloatTensor } {
  const prompts = {
    ...(c.points.length > 0 ? { points: c.points, labels: c.labels } : {}),
    ...(c.box ? { box: c.box } : {}),
  };
  const r1 = predictor.predict(features, prompts, originalSize, { multimask: true, returnMasks: false });
  const tokens = new Map<number, TokenRef>(
    [1, 2, 3].map((t) => [t, { mask: row(r1.lowResMasks, t - 1), iou: row(r1.iouPredictions, t - 1) }]),
  );
  const iou = r1.iouPredictions.data;
  const best = 1 + selectMaskIndex(iou);
  const tol = 1e-4 + 1e-3 * Math.abs(iou[best - 1] as number);
  const tied = [1, 2, 3].filter((t) => t !== best && (iou[best - 1] as number) - (iou[t - 1] as number) <= tol);
  let candidates = [best, ...tied];
  if (!useMultimask({ hasBox: c.box !== undefined, numPoints: c.points.length })) {
    const r0 = predictor.predict(features, prompts, originalSize, { multimask: false, returnMasks: false });
    const rule = r0.tokens[0]?.[0] ?? 0;
    tokens.set(rule, { mask: r0.lowResMasks, iou: r0.iouPredictions });
    candidates = [rule, ...(rule === 0 ? candidates : [0])].filter((t, k, all) => all.indexOf(t) === k);
  }
  return {
    multi: { mask: r1.lowResMasks, iou: r1.iouPredictions },
    tokens,
    candidates: candidates.filter((t) => tokens.has(t)),
    objectScore: r1.objectScoreLogits,
  };
}

/**
 * Runs the written decoder on the verification prompts and compares `pred_masks` (clamped to ±32 like
 * the reference), `iou_scores` and `object_score_logits` with the tfjs `Sam2Predictor`: tokens 1..3
 * for `multimask`; for `single_mask` the token of `Sam2Model.predict`'s `'auto'` rule (or, on a near
 * tie, the other candidate: `referenceOf`).
 */
export async function verifySam2TransformersJsDecoder(
  path: string,
  model: Sam2ExportSource,
  variant: DecoderVariant,
  features: Sam2PredictorFeatures,
  originalSize: readonly [number, number],
  opts: Sam2ExportOptions = {},
): Promise<VerificationSummary> {
  const worst = new WorstRatios();
  const [h, w] = originalSize;
  const cases = verificationCases(h, w);
  const session = await createSession(path, opts.session);
  const predictor = new Sam2Predictor({
    config: model.config,
    weights: sam2PredictorWeights(model.weights),
    trainable: false,
  });
  try {
    for (const c of cases) {
      const ref = referenceOf(predictor, features, c, originalSize);
      const feeds = sam2TransformersJsDecoderFeeds(
        features,
        sam2ApplyCoords(c.points.flat(), originalSize),
        c.labels,
        c.box ? sam2ApplyCoords(c.box, originalSize) : undefined,
      );
      const out = await session.run(feeds);
      const masks = clampLogits(out[TJS_SAM2_NAMES.predMasks] as FloatTensor);
      const iou = out[TJS_SAM2_NAMES.iouScores] as FloatTensor;
      const compare = (want: TokenRef): [Agreement, Agreement] => [
        compareTensors(floatTensor(masks.data, [...want.mask.shape]), want.mask),
        compareTensors(floatTensor(iou.data, [...want.iou.shape]), want.iou),
      ];
      const tried =
        variant === 'multimask'
          ? [compare(ref.multi)]
          : ref.candidates.map((t) => compare(ref.tokens.get(t) as TokenRef));
      const [maskA, iouA] = tried.find(([m, i]) => m.ok && i.ok) ?? (tried[0] as [Agreement, Agreement]);
      const objA = compareTensors(
        floatTensor((out[TJS_SAM2_NAMES.objectScoreLogits] as FloatTensor).data, [...ref.objectScore.shape]),
        ref.objectScore,
      );
      for (const [name, a] of [
        [TJS_SAM2_NAMES.predMasks, maskA],
        [TJS_SAM2_NAMES.iouScores, iouA],
        [TJS_SAM2_NAMES.objectScoreLogits, objA],
      ] as const) {
        worst.add(name, c.name, a);
        if (!a.ok) await failVerification(path, name, c.name, a, session);
      }
    }
  } finally {
    predictor.dispose();
    await session.release().catch(() => undefined);
  }
  return worst.summary(
    "tfjs Sam2Predictor (in-process, same weights; Sam2Model.predict's rule)",
    cases.map((c) => c.name),
  );
}
