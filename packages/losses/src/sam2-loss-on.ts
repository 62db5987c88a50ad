/**
 * SAM 2's training loss for image data, the official `training/loss_fns.py::MultiStepMultiMasksAndIous`
 * for one prediction step, written ONCE against `TrainOps<T>` (like `samLossOn`, whose focal and Dice
 * terms it shares): `w_mask·focal + w_dice·dice + w_iou·iou + w_class·class`, default
 * `20, 1, 1, 1` (`configs/sam2.1_training`). Per object (prompt) b of N:
 *
 * - focal (α 0.25, γ 2, mean over pixels) and Dice (`1-(2Σpt+1)/(Σp+Σt+1)`), per mask;
 * - IoU loss: the predicted IoU against the IoU of `logit > 0` vs the target, `inter / max(union, 1)`
 *   (an empty union counts as IoU 0, unlike SAM 1's loss), squared error or with `iouL1` absolute;
 * - with M > 1 masks: focal and Dice of the mask of lowest `w_mask·focal + w_dice·dice` (a constant
 *   one-hot); the IoU loss of that mask, or with `superviseAllIou` the mean over all M;
 * - `target_obj` = 1 if the target has any pixel: focal, Dice and IoU of an object are multiplied by it;
 * - class: BCE-with-logits of the object-score logit against `target_obj` (the official settings
 *   `focal_gamma_obj_score 0`, `focal_alpha_obj_score -1` make its focal loss a plain BCE).
 *
 * Every part is summed over objects and divided by N. Checked against the official numbers in
 * `../shared/fixtures/sam2-reference/loss.safetensors` and `hiera_mini_train_step.safetensors`.
 */
import type { TrainOps } from '@samtune/tensor';
import {
  DEFAULT_DICE_SMOOTH,
  DEFAULT_FOCAL_ALPHA,
  DEFAULT_FOCAL_GAMMA,
  LossShapeError,
  checkLossShapes,
  focalAndDice,
} from './sam-loss-on.js';

/** Weights of SAM 2's four loss parts (`weight_dict`). */
export interface Sam2LossWeights {
  /** `loss_mask` (focal). Default 20. */
  readonly focal: number;
  /** `loss_dice`. Default 1. */
  readonly dice: number;
  /** `loss_iou`. Default 1. */
  readonly iou: number;
  /** `loss_class` (object score). Default 1. */
  readonly class: number;
}

/** The official SAM 2.1 training weights. */
export const DEFAULT_SAM2_LOSS_WEIGHTS: Readonly<Sam2LossWeights> = Object.freeze({
  focal: 20,
  dice: 1,
  iou: 1,
  class: 1,
});

/** Configuration of `sam2LossOn`; every field defaults to the values named. */
export interface Sam2LossConfig {
  /** Part weights, merged over `DEFAULT_SAM2_LOSS_WEIGHTS`. */
  readonly weights?: Partial<Sam2LossWeights>;
  /** Focal `alpha` (0.25). */
  readonly focalAlpha?: number;
  /** Focal `gamma` (2). */
  readonly focalGamma?: number;
  /** Dice smoothing (1). */
  readonly diceSmooth?: number;
  /** Absolute instead of squared IoU error (`iou_use_l1_loss`; the official fine-tune config: true). Default false. */
  readonly iouL1?: boolean;
  /** With M > 1, the IoU loss of every mask, averaged (`supervise_all_iou`). Default false. */
  readonly superviseAllIou?: boolean;
}

/** SAM 2's loss of a batch: scalars `[]`. */
export interface Sam2LossValues<T> {
  /** The weighted sum: the value to differentiate. */
  readonly loss: T;
  readonly focal: T;
  readonly dice: T;
  readonly iou: T;
  readonly class: T;
  /** `[B,M]` one-hot of the mask each object trains (M > 1 only). */
  readonly pick?: T;
}

/**
 * SAM 2's loss (module comment).
 * @param logits `[B,M,H,W]` mask logits
 * @param iouPredictions `[B,M]` predicted IoU (after the decoder's sigmoid)
 * @param objectScoreLogits `[B,1]` object-score logits
 * @param targets `[B,1,H,W]` 0/1 targets, one per object
 * @throws LossShapeError on mismatched shapes
 */
export function sam2LossOn<T>(
  ops: TrainOps<T>,
  logits: T,
  iouPredictions: T,
  objectScoreLogits: T,
  targets: T,
  config: Sam2LossConfig = {},
): Sam2LossValues<T> {
  const [b, m, h, w, tm] = checkLossShapes(ops, 'sam2LossOn', logits, iouPredictions, targets);
  const os = ops.shape(objectScoreLogits);
  if (tm !== 1)
    throw new LossShapeError(
      `sam2LossOn(targets): expected one target per object [${b},1,${h},${w}], got [${ops.shape(targets).join(',')}]`,
    );
  if (os.length !== 2 || os[0] !== b || os[1] !== 1)
    throw new LossShapeError(`sam2LossOn(objectScoreLogits): expected [${b},1], got [${os.join(',')}]`);
  const wt = { ...DEFAULT_SAM2_LOSS_WEIGHTS, ...config.weights };

  const x = ops.reshape(logits, [b, m, h * w]);
  const t = ops.reshape(targets, [b, 1, h * w]);
  const { focal, dice, sumT } = focalAndDice(
    ops,
    x,
    t,
    config.focalAlpha ?? DEFAULT_FOCAL_ALPHA,
    config.focalGamma ?? DEFAULT_FOCAL_GAMMA,
    config.diceSmooth ?? DEFAULT_DICE_SMOOTH,
  );

  // IoU of (logit > 0) vs the target: a constant; union clamped to >= 1.
  const bin = ops.addScalar(ops.scale(ops.greaterEqualScalar(ops.scale(x, -1), 0), -1), 1); // x > 0
  const inter = ops.sum(ops.mul(bin, t), 2);
  const union = ops.sub(ops.add(ops.sum(bin, 2), sumT), inter);
  const empty = ops.greaterEqualScalar(ops.scale(union, -1), 0); // 1 where the (integer) union is 0
  const diff = ops.sub(iouPredictions, ops.div(inter, ops.add(union, empty)));
  // |d| = d·sign(d), the sign a constant (torch's l1_loss gradient, but +1 at 0)
  const sign = ops.addScalar(ops.scale(ops.greaterEqualScalar(diff, 0), 2), -1);
  const iou = config.iouL1 === true ? ops.mul(diff, sign) : ops.mul(diff, diff); // [B,M]

  // best of M by focal + dice; [B] per object
  const pick = m > 1 ? ops.argMinOneHot(ops.add(ops.scale(focal, wt.focal), ops.scale(dice, wt.dice))) : undefined;
  const picked = (v: T): T => ops.sum(pick ? ops.mul(v, pick) : v, 1);
  const iouPerObject = pick && config.superviseAllIou === true ? ops.mean(iou, [1]) : picked(iou);

  // target_obj gating, then sum over objects / N
  const targetObj = ops.greaterEqualScalar(ops.reshape(sumT, [b]), 0.5); // targets are 0/1
  const reduce = (v: T): T => ops.mean(ops.mul(v, targetObj), [0]);
  const focalR = reduce(picked(focal));
  const diceR = reduce(picked(dice));
  const iouR = reduce(iouPerObject);

  // class: BCE-with-logits(object score, target_obj)
  const s = ops.reshape(objectScoreLogits, [b]);
  const cls = ops.mean(ops.sub(ops.softplus(s), ops.mul(s, targetObj)), [0]);

  const loss = ops.add(
    ops.add(ops.scale(focalR, wt.focal), ops.scale(diceR, wt.dice)),
    ops.add(ops.scale(iouR, wt.iou), ops.scale(cls, wt.class)),
  );
  return { loss, focal: focalR, dice: diceR, iou: iouR, class: cls, ...(pick ? { pick } : {}) };
}
