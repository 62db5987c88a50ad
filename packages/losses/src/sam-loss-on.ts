/**
 * The SAM fine-tuning loss, written ONCE against `TrainOps<T>`: `TfjsOps` (sam-model) evaluates it
 * eagerly and differentiably (the tfjs training engine, validation), `OnnxGraphOps` records it into
 * the ORT training graphs, where the autodiff differentiates it. Per mask (the reference recipe,
 * torchvision's `sigmoid_focal_loss`, the golden fixtures `loss.safetensors` and
 * `tinyvit_train_step.safetensors`):
 *
 * - focal: mean over pixels of `alpha_t * (softplus(x) - x*t) * (p + t - 2pt)^gamma`, `p = sigmoid(x)`,
 *   `alpha_t = alpha*t + (1-alpha)*(1-t)` (no `alpha_t` when alpha < 0); the cross-entropy in the stable
 *   softplus form, whose gradient is exactly `p - t`;
 * - dice: `1 - (2*sum(p*t) + s) / (sum(p) + sum(t) + s)`;
 * - IoU-MSE: `(iou_pred - iou(p >= 0.5, t))^2`; the actual IoU is a constant (the threshold carries
 *   no gradient; the probability, not the logit, is thresholded so float32 rounding matches torch);
 *   an empty union counts as IoU 1;
 * - per prompt `w_f*focal + w_d*dice + w_i*iou`. With M > 1 outputs per prompt and `bestOf` (SAM's
 *   multimask training) the output of lowest loss is kept (a constant one-hot selection); otherwise
 *   every mask counts. The parts are means over the prompts (or masks).
 */
import type { TrainOps } from '@samtune/tensor';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when a loss gets tensors of the wrong rank or of mismatched shapes. */
export class LossShapeError extends SamtuneError {
  readonly code: string = 'loss-shape';
  readonly kind: ErrorKind = 'input';
}

/** Focal `alpha`, `gamma` and Dice smoothing of the reference recipe. */
export const DEFAULT_FOCAL_ALPHA = 0.25;
export const DEFAULT_FOCAL_GAMMA = 2;
export const DEFAULT_DICE_SMOOTH = 1;

/** Weights of the three loss parts. */
export interface LossWeights {
  /** Weight of the sigmoid focal loss. Default 20. */
  readonly focal: number;
  /** Weight of the Dice loss. Default 1. */
  readonly dice: number;
  /** Weight of the IoU-prediction MSE. Default 1. */
  readonly iou: number;
}

/** The reference weights: `20 * focal + dice + iou_mse`. */
export const DEFAULT_LOSS_WEIGHTS: Readonly<LossWeights> = Object.freeze({ focal: 20, dice: 1, iou: 1 });

/** Configuration of the loss; every field is optional and defaults to the reference recipe. */
export interface SamLossConfig {
  /** Part weights, merged over `DEFAULT_LOSS_WEIGHTS`. */
  readonly weights?: Partial<LossWeights>;
  /** Focal `alpha` (default 0.25; negative: no class weighting). */
  readonly focalAlpha?: number;
  /** Focal `gamma` (default 2). */
  readonly focalGamma?: number;
  /** Dice smoothing (default 1). */
  readonly diceSmooth?: number;
}

/** `DEFAULT_LOSS_WEIGHTS` with `config.weights` applied. */
export function resolveLossWeights(config: SamLossConfig = {}): LossWeights {
  return { ...DEFAULT_LOSS_WEIGHTS, ...config.weights };
}

/** The loss of a batch: scalars `[]` (the executor's values). */
export interface SamLossValues<T> {
  /** `w_f*focal + w_d*dice + w_i*iou`: the value to differentiate. */
  readonly loss: T;
  readonly focal: T;
  readonly dice: T;
  readonly iou: T;
  /** `[B,M]` per-mask `w_f*focal + w_d*dice + w_i*iou`. */
  readonly perMask: T;
  /** `[B,M]` one-hot of the output each prompt trains (best of M); absent when every mask counts. */
  readonly pick?: T;
}

/** Options of `samLossOn`. */
export interface SamLossOptions {
  /** With M > 1 outputs per prompt, train the one of lowest loss (default true). */
  readonly bestOf?: boolean;
}

const fmt = (s: readonly number[]): string => `[${s.join(',')}]`;

/**
 * Checks the shapes of a mask loss's inputs (`fn` names the loss in messages).
 * @returns `[B, M, H, W, M_targets]` (M_targets 1 or M)
 * @throws LossShapeError on mismatched shapes
 */
export function checkLossShapes<T>(
  ops: TrainOps<T>,
  fn: string,
  logits: T,
  iouPredictions: T,
  targets: T,
): [number, number, number, number, number] {
  const ls = ops.shape(logits);
  const ts = ops.shape(targets);
  const is = ops.shape(iouPredictions);
  if (ls.length !== 4) throw new LossShapeError(`${fn}(logits): expected [B,M,H,W] (rank 4), got ${fmt(ls)}`);
  const [b, m, h, w] = ls as [number, number, number, number];
  if (ts.length !== 4 || ts[0] !== b || (ts[1] !== 1 && ts[1] !== m) || ts[2] !== h || ts[3] !== w)
    throw new LossShapeError(`${fn}(targets): expected [${b},1|${m},${h},${w}] for logits ${fmt(ls)}, got ${fmt(ts)}`);
  if (is.length !== 2 || is[0] !== b || is[1] !== m)
    throw new LossShapeError(`${fn}(iouPredictions): expected [${b},${m}] for logits ${fmt(ls)}, got ${fmt(is)}`);
  return [b, m, h, w, ts[1] as number];
}

/** Per-mask focal and Dice terms of flattened logits `x [B,M,P]` against 0/1 targets `t [B,1|M,P]`. */
export interface MaskTerms<T> {
  /** `sigmoid(x)`. */
  readonly p: T;
  /** `[B,M]` sigmoid focal loss, mean over pixels. */
  readonly focal: T;
  /** `[B,M]` Dice loss. */
  readonly dice: T;
  /** `[B,1|M]` target pixel count. */
  readonly sumT: T;
}

/**
 * The focal and Dice terms shared by SAM 1's and SAM 2's losses (module comment): focal with the
 * cross-entropy in softplus form (`alpha < 0`: no class weighting), Dice with smoothing `smooth`.
 */
export function focalAndDice<T>(
  ops: TrainOps<T>,
  x: T,
  t: T,
  alpha: number,
  gamma: number,
  smooth: number,
): MaskTerms<T> {
  const p = ops.sigmoid(x);
  const ce = ops.sub(ops.softplus(x), ops.mul(x, t));
  const pt = ops.mul(p, t);
  const oneMinusPt = ops.sub(ops.add(p, t), ops.scale(pt, 2)); // 1 - p_t
  const mod = ops.mul(ce, ops.powScalar(oneMinusPt, gamma));
  const alphaT = ops.addScalar(ops.scale(t, 2 * alpha - 1), 1 - alpha); // alpha*t + (1-alpha)*(1-t)
  const focal = ops.mean(alpha < 0 ? mod : ops.mul(alphaT, mod), [2]); // [B,M]
  const sumT = ops.sum(t, 2);
  const num = ops.addScalar(ops.scale(ops.sum(pt, 2), 2), smooth);
  const den = ops.addScalar(ops.add(ops.sum(p, 2), sumT), smooth);
  const dice = ops.addScalar(ops.scale(ops.div(num, den), -1), 1); // [B,M]
  return { p, focal, dice, sumT };
}

/**
 * The loss (see the module comment).
 * @param logits `[B,M,H,W]` mask logits
 * @param iouPredictions `[B,M]` the decoder's IoU predictions
 * @param targets `[B,1,H,W]` (one per prompt, shared by its M outputs) or `[B,M,H,W]` 0/1 targets
 * @throws LossShapeError on mismatched shapes
 */
export function samLossOn<T>(
  ops: TrainOps<T>,
  logits: T,
  iouPredictions: T,
  targets: T,
  config: SamLossConfig = {},
  options: SamLossOptions = {},
): SamLossValues<T> {
  const [b, m, h, w, tm] = checkLossShapes(ops, 'samLossOn', logits, iouPredictions, targets);
  const alpha = config.focalAlpha ?? DEFAULT_FOCAL_ALPHA;
  const gamma = config.focalGamma ?? DEFAULT_FOCAL_GAMMA;
  const smooth = config.diceSmooth ?? DEFAULT_DICE_SMOOTH;
  const wt = resolveLossWeights(config);

  const x = ops.reshape(logits, [b, m, h * w]);
  const t = ops.reshape(targets, [b, tm, h * w]);
  const { p, focal, dice, sumT } = focalAndDice(ops, x, t, alpha, gamma, smooth);

  // IoU-MSE against the (constant) IoU of the thresholded prediction
  const bin = ops.greaterEqualScalar(p, 0.5);
  const inter = ops.sum(ops.mul(bin, t), 2);
  const union = ops.sub(ops.add(ops.sum(bin, 2), sumT), inter);
  const empty = ops.greaterEqualScalar(ops.scale(union, -1), 0); // 1 where the (integer) union is 0
  const diff = ops.sub(iouPredictions, ops.div(ops.add(inter, empty), ops.add(union, empty)));
  const iou = ops.mul(diff, diff); // [B,M]

  const perMask = ops.add(ops.add(ops.scale(focal, wt.focal), ops.scale(dice, wt.dice)), ops.scale(iou, wt.iou));
  const pick = m > 1 && options.bestOf !== false ? ops.argMinOneHot(perMask) : undefined;
  const reduce = (v: T): T => (pick ? ops.mean(ops.sum(ops.mul(v, pick), 1), [0]) : ops.mean(v, [0, 1]));
  return {
    loss: reduce(perMask),
    focal: reduce(focal),
    dice: reduce(dice),
    iou: reduce(iou),
    perMask,
    ...(pick ? { pick } : {}),
  };
}
