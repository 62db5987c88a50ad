/**
 * One `torch.optim.Adam` update (amsgrad off, maximize off), written ONCE against `TrainOps<T>`:
 * the tfjs `Adam` (`optimizer.ts`) evaluates it per parameter, the ort engine records it as the
 * chunked Adam graph (`ort-engine/adam-graph.ts`). In float32, in this order:
 *
 * ```
 * g  = grad (+ weight_decay * p)                 (L2-style, only when weight_decay > 0)
 * m' = m + (g - m) * (1 - beta1)                 (torch: exp_avg.lerp_(g, 1 - beta1))
 * v' = v * beta2 + g^2 * (1 - beta2)
 * p' = p - (m' / (sqrt(v') / bc2_sqrt + eps)) * step_size
 * ```
 * with `step_size = lr / (1 - beta1^t)` and `bc2_sqrt = sqrt(1 - beta2^t)` (`adamScalars`).
 */
import type { TrainOps } from '@samtune/tensor';
import type { AdamHyper } from './types.js';

/** The updated parameter and moments. */
export interface AdamUpdate<T> {
  readonly p: T;
  readonly m: T;
  readonly v: T;
}

/** The two per-step scalars of the update at step `t` (1-based). */
export function adamScalars(h: AdamHyper, t: number, lr = h.lr): { stepSize: number; bc2Sqrt: number } {
  return { stepSize: lr / (1 - h.beta1 ** t), bc2Sqrt: Math.sqrt(1 - h.beta2 ** t) };
}

/**
 * The update (see the module comment).
 * @param stepSize `[]` or `[1]`: `lr / (1 - beta1^t)`
 * @param bc2Sqrt `[]` or `[1]`: `sqrt(1 - beta2^t)`
 */
export function adamUpdate<T>(
  ops: TrainOps<T>,
  x: { readonly p: T; readonly m: T; readonly v: T; readonly g: T },
  stepSize: T,
  bc2Sqrt: T,
  h: Omit<AdamHyper, 'lr'>,
): AdamUpdate<T> {
  const g = h.weightDecay > 0 ? ops.add(x.g, ops.scale(x.p, h.weightDecay)) : x.g;
  const m = ops.add(x.m, ops.scale(ops.sub(g, x.m), 1 - h.beta1));
  const v = ops.add(ops.scale(x.v, h.beta2), ops.scale(ops.mul(g, g), 1 - h.beta2));
  const denom = ops.addScalar(ops.div(ops.sqrt(v), bc2Sqrt), h.eps);
  const p = ops.sub(x.p, ops.mul(ops.div(m, denom), stepSize));
  return { p, m, v };
}
