/**
 * The SAM fine-tuning loss recorded as ONNX ops, following @samtune/losses (`samLoss`,
 * `focalLossPerMask`, `diceLossPerMask`, `iouMseLossPerMask`) formula for formula:
 *
 * - focal per mask: mean over pixels of `alpha_t * (softplus(x) - x*t) * (p + t - 2pt)^gamma`,
 *   `p = sigmoid(x)`, `alpha_t = alpha*t + (1-alpha)*(1-t)`;
 * - dice per mask: `1 - (2*sum(p*t) + s) / (sum(p) + sum(t) + s)`;
 * - IoU-MSE per mask: `(iou_pred - iou(p >= 0.5, t))^2`, the actual IoU a constant (GreaterOrEqual
 *   has no gradient); an empty union counts as IoU 1;
 * - per prompt `w_f*focal + w_d*dice + w_i*iou`; with M > 1 outputs per prompt (a single point,
 *   multimask) the output of lowest loss is kept (ArgMin + Equal: a constant selection, as
 *   train-step.ts's `decoderLoss` does); the parts are means over the B prompts.
 */
import type { OnnxGraphOps, OnnxValue } from '@samtune/onnx';
import { DEFAULT_DICE_SMOOTH, DEFAULT_FOCAL_ALPHA, DEFAULT_FOCAL_GAMMA, resolveLossWeights } from '@samtune/losses';
import type { SamLossConfig } from '@samtune/losses';

/** What `recordSamLossGraph` adds. */
export interface LossGraphValues {
  /** `[]` the loss (mean over the prompts): the value to differentiate. */
  readonly loss: OnnxValue;
  /** `[4]` unscaled `[loss, focal, dice, iou]`, means over the prompts. */
  readonly parts: OnnxValue;
}

function reduceSum(ops: OnnxGraphOps, x: OnnxValue, axis: number): OnnxValue {
  const shape = x.shape.filter((_, i) => i !== axis);
  return ops.emit('ReduceSum', [x, ops.int64Const([axis])], shape, { keepdims: 0 });
}

function reduceMean(ops: OnnxGraphOps, x: OnnxValue, axis: number): OnnxValue {
  const shape = x.shape.filter((_, i) => i !== axis);
  // opset 17: ReduceMean takes its axes as an attribute
  return ops.emit('ReduceMean', [x], shape, { axes: [axis], keepdims: 0 });
}

function meanAll(ops: OnnxGraphOps, x: OnnxValue): OnnxValue {
  return ops.emit('ReduceMean', [x], [], { axes: x.shape.map((_, i) => i), keepdims: 0 });
}

/**
 * Records the loss.
 * @param logits `[B,M,H,W]` low-res mask logits
 * @param iouPred `[B,M]` predicted IoU
 * @param targets `[B,1,H,W]` 0/1 targets (one per prompt, shared by its M outputs)
 */
export function recordSamLossGraph(
  ops: OnnxGraphOps,
  logits: OnnxValue,
  iouPred: OnnxValue,
  targets: OnnxValue,
  config: SamLossConfig = {},
): LossGraphValues {
  const [b, m, h, w] = logits.shape as [number, number, number, number];
  const hw = h * w;
  const alpha = config.focalAlpha ?? DEFAULT_FOCAL_ALPHA;
  const gamma = config.focalGamma ?? DEFAULT_FOCAL_GAMMA;
  const smooth = config.diceSmooth ?? DEFAULT_DICE_SMOOTH;
  const wt = resolveLossWeights(config);

  const x = ops.reshape(logits, [b, m, hw]);
  const t = ops.reshape(targets, [b, 1, hw]);
  const p = ops.sigmoid(x);
  const xs = x.shape;

  // focal
  const ce = ops.sub(ops.emit('Softplus', [x], xs), ops.mul(x, t));
  const pt = ops.mul(p, t);
  const oneMinusPt = ops.sub(ops.add(p, t), ops.scale(pt, 2));
  const mod =
    gamma === 2
      ? ops.mul(ce, ops.mul(oneMinusPt, oneMinusPt))
      : ops.mul(ce, ops.emit('Pow', [oneMinusPt, ops.constant(new Float32Array([gamma]), [], 'focal_gamma')], xs));
  const alphaT = ops.addScalar(ops.scale(t, 2 * alpha - 1), 1 - alpha); // alpha*t + (1-alpha)*(1-t)
  const focal = reduceMean(ops, alpha < 0 ? mod : ops.mul(alphaT, mod), 2); // [B,M]

  // dice
  const sumT = reduceSum(ops, t, 2); // [B,1]
  const num = ops.addScalar(ops.scale(reduceSum(ops, pt, 2), 2), smooth);
  const den = ops.addScalar(ops.add(reduceSum(ops, p, 2), sumT), smooth);
  const dice = ops.addScalar(ops.scale(ops.div(num, den), -1), 1); // [B,M]

  // IoU-MSE against the (constant) IoU of the thresholded prediction
  const half = ops.constant(new Float32Array([0.5]), [], 'iou_threshold');
  const bin = ops.emit('Cast', [ops.emit('GreaterOrEqual', [p, half], xs)], xs, { to: 1 });
  const inter = reduceSum(ops, ops.mul(bin, t), 2);
  const union = ops.sub(ops.add(reduceSum(ops, bin, 2), sumT), inter);
  // empty union (integer counts) -> IoU 1: (inter + e) / (union + e), e = [union == 0]
  const zero = ops.constant(new Float32Array([0]), [], 'iou_zero');
  const empty = ops.emit('Cast', [ops.emit('Equal', [union, zero], union.shape)], union.shape, { to: 1 });
  const iouTarget = ops.div(ops.add(inter, empty), ops.add(union, empty));
  const diff = ops.sub(iouPred, iouTarget);
  const iouMse = ops.mul(diff, diff); // [B,M]

  const total = ops.add(ops.add(ops.scale(focal, wt.focal), ops.scale(dice, wt.dice)), ops.scale(iouMse, wt.iou));
  let sel = (v: OnnxValue): OnnxValue => v;
  if (m > 1) {
    const idx = ops.emit('ArgMin', [total], [b, 1], { axis: 1, keepdims: 1, select_last_index: 0 });
    // one-hot of the argmin as Equal(index, 0..M-1): a constant selection (Equal has no gradient)
    const range = { name: ops.builder.addInt64Constant([...Array(m).keys()], 'mask_index', [1, m]), shape: [1, m] };
    const pick = ops.emit('Cast', [ops.emit('Equal', [idx, range], [b, m])], [b, m], { to: 1 });
    sel = (v) => reduceSum(ops, ops.mul(v, pick), 1);
  }
  const [loss, fo, di, io] = [total, focal, dice, iouMse].map((v) => meanAll(ops, sel(v))) as [
    OnnxValue,
    OnnxValue,
    OnnxValue,
    OnnxValue,
  ];
  const parts = ops.concat(
    [loss, fo, di, io].map((v) => ops.reshape(v, [1])),
    0,
  );
  return { loss, parts };
}
