/** Test-only: `samLossOn` on tfjs tensors (`TfjsOps`), the parts as scalars. */
import * as tf from '@tensorflow/tfjs';
import { TfjsOps } from '@samtune/sam-model/modeling';
import { samLossOn, type SamLossConfig } from '../sam-loss-on.js';

const ops = new TfjsOps(new Map());

/** The loss of `logits [B,M,H,W]` against `targets` with `iouPredictions [B,M]` (every mask counts). */
export function samLoss(
  logits: tf.Tensor,
  targets: tf.Tensor,
  iouPredictions: tf.Tensor,
  config: SamLossConfig = {},
): { loss: tf.Scalar; focal: tf.Scalar; dice: tf.Scalar; iou: tf.Scalar; perMask: tf.Tensor } {
  return tf.tidy(() => {
    const r = samLossOn(ops, logits, iouPredictions, targets, config, { bestOf: false });
    return {
      loss: r.loss as tf.Scalar,
      focal: r.focal as tf.Scalar,
      dice: r.dice as tf.Scalar,
      iou: r.iou as tf.Scalar,
      perMask: r.perMask,
    };
  });
}

/** Per-mask values of one part (its weight 1, the others 0), `[B*M]`. */
export function perMask(
  part: 'focal' | 'dice' | 'iou',
  logits: tf.Tensor,
  targets: tf.Tensor,
  iou?: tf.Tensor,
): number[] {
  const [b, m] = logits.shape as [number, number];
  const weights = { focal: 0, dice: 0, iou: 0, [part]: 1 };
  const r = samLoss(logits, targets, iou ?? tf.zeros([b, m]), { weights });
  const out = Array.from(r.perMask.dataSync());
  tf.dispose([r.loss, r.focal, r.dice, r.iou, r.perMask]);
  return out;
}
