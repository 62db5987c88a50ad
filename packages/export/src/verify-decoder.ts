/**
 * Verification of a written decoder model: onnxruntime-node on fixed inputs vs the in-process tfjs
 * `SamPredictor` (the official predictor's prompt path: boxes through `embedBoxes`, automatic padding
 * point), within `1e-4 + 1e-3 * max|ref|` per output. The single-mask variant is checked against the
 * token that sam-model's `useMultimask` / `selectMaskIndex` pick, so the in-graph rule is proven equal
 * to the shared one. A failure deletes the file and throws `ExportVerificationError`.
 */
import {
  compareTensors,
  floatTensor,
  mulberry32,
  SamPredictor,
  selectMaskIndex,
  useMultimask,
  type Agreement,
  type FloatTensor,
  type PredictPrompts,
  type PredictResult,
  type SamConfig,
  type WeightMap,
} from '@samtune/sam-model';
import { createSession, type Session, type SessionOptions } from '@samtune/onnx';
import type { DecoderVariant } from './contract.js';
import { decoderFeeds, promptsToFrame } from './prompts.js';
import { failVerification, WorstRatios } from './verify-common.js';
import type { VerificationSummary } from './model-json.js';

/** Original image size (H,W) of the verification prompts: a non-square image, pre-padding size (683,1024). */
export const VERIFY_ORIGINAL_SIZE: readonly [number, number] = [600, 900];

/** A named prompt set in ORIGINAL pixels of `VERIFY_ORIGINAL_SIZE`. */
export interface VerifyCase {
  readonly name: string;
  readonly prompts: PredictPrompts;
  /** Check all 4 tokens of a multimask decoder (two predictor runs), not only the rule's. */
  readonly allTokens?: boolean;
}

/** Seeded Gaussian values (Box-Muller on mulberry32). */
function gaussian(n: number, seed: number, std: number): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++)
    out[i] = std * Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
  return out;
}

/** The fixed image embedding of the verification: seeded N(0, 0.5²), `[1,C,h,w]`. */
export function verificationEmbedding(config: SamConfig): FloatTensor {
  const [h, w] = config.promptEncoder.imageEmbeddingSize;
  const c = config.promptEncoder.embedDim;
  return floatTensor(gaussian(c * h * w, 20240601, 0.5), [1, c, h, w]);
}

/** A smooth low-res mask logit map `[1,256,256]` (an ellipse, +8 inside, -8 far outside). */
function ellipseLogits(): FloatTensor {
  const n = 256;
  const data = new Float32Array(n * n);
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) data[y * n + x] = 8 - 16 * Math.hypot((x - 120) / 60, (y - 90) / 40);
  return floatTensor(data, [1, n, n]);
}

/** The verification prompt sets: dynamic N from 2 to 4, boxes, background points, a mask input. */
export function verificationCases(): VerifyCase[] {
  const box = [180, 130, 660, 490] as const;
  return [
    { name: 'one_point', prompts: { points: [[450, 300]], labels: [1] }, allTokens: true },
    { name: 'box', prompts: { box } },
    {
      name: 'points_and_box',
      prompts: {
        points: [
          [420, 310],
          [250, 170],
        ],
        labels: [1, 0],
        box,
      },
    },
    {
      name: 'two_points_mask_input',
      prompts: {
        points: [
          [420, 310],
          [560, 380],
        ],
        labels: [1, 1],
        maskInput: ellipseLogits(),
      },
    },
  ];
}

type OutputName = 'masks' | 'iou_predictions' | 'low_res_masks';
/** One token's reference outputs, shaped like a single-mask model's: `[1,1,H,W]`, `[1,1]`, `[1,1,256,256]`. */
type TokenOutputs = Record<OutputName, FloatTensor>;

/** Row `i` of `[M,…]` (a `PredictResult` field) as `[1,1,…]`. */
function row(t: FloatTensor, i: number): FloatTensor {
  const n = t.data.length / (t.shape[0] as number);
  return floatTensor(t.data.subarray(i * n, (i + 1) * n), [1, 1, ...t.shape.slice(1)]);
}

/**
 * Reference outputs of the tfjs predictor by token: token 0 (`multimask: false`) and/or tokens 1..M
 * (`multimask: true`). Each predictor call runs the whole decoder, so only the needed ones are made.
 */
function referenceTokens(
  predictor: SamPredictor,
  embedding: FloatTensor,
  prompts: PredictPrompts,
  size: readonly [number, number],
  want: { readonly token0: boolean; readonly multi: boolean },
): Map<number, TokenOutputs> {
  const refs = new Map<number, TokenOutputs>();
  const add = (r: PredictResult, first: number): void => {
    for (let i = 0; i < (r.iouPredictions.shape[0] as number); i++) {
      refs.set(first + i, {
        masks: row(r.masks as FloatTensor, i),
        iou_predictions: floatTensor(r.iouPredictions.data.subarray(i, i + 1), [1, 1]),
        low_res_masks: row(r.lowResMasks, i),
      });
    }
  };
  if (want.token0) add(predictor.predict(embedding, prompts, size, { multimask: false }), 0);
  if (want.multi) add(predictor.predict(embedding, prompts, size, { multimask: true }), 1);
  return refs;
}

/** Row `i` of a model output `[1,M,…]` as `[1,1,…]`. */
function outputRow(t: FloatTensor, i: number): FloatTensor {
  const n = t.data.length / (t.shape[1] as number);
  return floatTensor(t.data.subarray(i * n, (i + 1) * n), [1, 1, ...t.shape.slice(2)]);
}

/** Tokens the rule may pick among 1..M: the best IoU and any within tolerance of it (a near tie may flip between executors). */
function ruleCandidates(refs: Map<number, TokenOutputs>): number[] {
  const ious = [...refs].filter(([t]) => t > 0).map(([t, r]) => [t, r.iou_predictions.data[0] as number] as const);
  const best = ious[selectMaskIndex(ious.map(([, v]) => v))] as readonly [number, number];
  const tol = compareTensors(
    floatTensor(new Float32Array([0]), [1]),
    floatTensor(new Float32Array([best[1]]), [1]),
  ).tolerance;
  return [best[0], ...ious.filter(([t, v]) => t !== best[0] && best[1] - v <= tol).map(([t]) => t)];
}

const OUTPUTS: readonly OutputName[] = ['masks', 'iou_predictions', 'low_res_masks'];

/** Compares row `r` of the model outputs with one token's reference; the first failing output, or the agreements. */
function compareRow(
  out: Record<string, FloatTensor>,
  r: number,
  ref: TokenOutputs,
): { bad?: [OutputName, Agreement]; all: [OutputName, Agreement][] } {
  const all = OUTPUTS.map(
    (name) => [name, compareTensors(outputRow(out[name] as FloatTensor, r), ref[name])] as [OutputName, Agreement],
  );
  const bad = all.find(([, a]) => !a.ok);
  return bad ? { bad, all } : { all };
}

/** Which tokens a variant checks on a case: all 4 (multimask, `allTokens`), else the rule's call(s). */
function needs(variant: DecoderVariant, c: VerifyCase): { token0: boolean; multi: boolean } {
  const ambiguous = useMultimask({ hasBox: c.prompts.box !== undefined, numPoints: c.prompts.points?.length ?? 0 });
  const all = variant === 'multimask' && c.allTokens === true;
  return { token0: all || !ambiguous, multi: all || ambiguous };
}

/** Compares one variant's outputs on one case with the references; the failure (output, case label, agreement) or undefined. */
function checkCase(
  variant: DecoderVariant,
  c: VerifyCase,
  out: Record<string, FloatTensor>,
  refs: Map<number, TokenOutputs>,
  worst: WorstRatios,
): [OutputName, string, Agreement] | undefined {
  const need = needs(variant, c);
  if (variant === 'multimask') {
    // every token the references of this variant cover, row for row
    for (const [tok, ref] of refs) {
      if (tok === 0 ? !need.token0 : !need.multi) continue;
      const r = compareRow(out, tok, ref);
      if (r.bad) return [r.bad[0], `${c.name} (token ${tok})`, r.bad[1]];
      for (const [name, a] of r.all) worst.add(name, c.name, a);
    }
    return undefined;
  }
  // single-mask: the one row must be the rule's token
  const candidates = need.multi ? ruleCandidates(refs) : [0];
  const results = candidates.map((tok) => compareRow(out, 0, refs.get(tok) as TokenOutputs));
  const pass = results.find((r) => !r.bad);
  if (pass) {
    for (const [name, a] of pass.all) worst.add(name, c.name, a);
    return undefined;
  }
  const first = results[0]?.bad as [OutputName, Agreement];
  return [first[0], `${c.name} (rule token ${candidates[0]})`, first[1]];
}

/**
 * Runs each written decoder on the verification cases and compares every output with the tfjs
 * predictor built from `reference` (the same weights the files were built from). The references are
 * computed once per case for all files, case by case (a failure stops at the first bad case).
 * @returns per variant, the worst ratios per output
 * @throws ExportVerificationError (after deleting the failing file and its `.data`) on the first output out of tolerance
 */
export async function verifyDecoderFiles(
  files: Partial<Record<DecoderVariant, string>>,
  reference: { readonly config: SamConfig; readonly weights: WeightMap },
  opts: SessionOptions = {},
): Promise<Partial<Record<DecoderVariant, VerificationSummary>>> {
  const { config } = reference;
  const variants = Object.keys(files) as DecoderVariant[];
  const embedding = verificationEmbedding(config);
  const size = VERIFY_ORIGINAL_SIZE;
  const cases = verificationCases();
  const sessions = new Map<DecoderVariant, Session>();
  const worst = new Map<DecoderVariant, WorstRatios>(variants.map((v) => [v, new WorstRatios()]));
  const predictor = new SamPredictor({ config, weights: reference.weights, trainable: false });
  try {
    for (const v of variants) sessions.set(v, await createSession(files[v] as string, opts));
    for (const c of cases) {
      const want = variants.map((v) => needs(v, c));
      const refs = referenceTokens(predictor, embedding, c.prompts, size, {
        token0: want.some((w) => w.token0),
        multi: want.some((w) => w.multi),
      });
      const feeds = decoderFeeds(embedding, promptsToFrame(c.prompts, size, config.imageEncoder.imgSize), size);
      for (const [variant, session] of sessions) {
        const failure = checkCase(variant, c, await session.run(feeds), refs, worst.get(variant) as WorstRatios);
        if (failure) await failVerification(files[variant] as string, failure[0], failure[1], failure[2], session);
      }
    }
  } finally {
    predictor.dispose();
    for (const s of sessions.values()) await s.release();
  }
  const summary = (v: DecoderVariant): VerificationSummary =>
    (worst.get(v) as WorstRatios).summary(
      'tfjs SamPredictor (in-process, same weights)',
      cases.map((c) => c.name),
    );
  return Object.fromEntries(variants.map((v) => [v, summary(v)]));
}

/** `verifyDecoderFiles` for one file. */
export async function verifyDecoderFile(
  path: string,
  variant: DecoderVariant,
  reference: { readonly config: SamConfig; readonly weights: WeightMap },
  opts: SessionOptions = {},
): Promise<VerificationSummary> {
  return (await verifyDecoderFiles({ [variant]: path }, reference, opts))[variant] as VerificationSummary;
}
