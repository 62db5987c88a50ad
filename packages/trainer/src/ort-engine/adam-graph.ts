/**
 * `torch.optim.Adam` (amsgrad off) over ONE flat float32 vector of all trainable values, as a small
 * ONNX graph: the same float32 operations, in the same order, as `optimizer.ts` does per parameter.
 *
 * ```
 * g  = grad (+ weight_decay * p)
 * m' = m + (g - m) * (1 - beta1)
 * v' = v * beta2 + g^2 * (1 - beta2)
 * p' = p - (m' / (sqrt(v') / bc2_sqrt + eps)) * step_size     step_size = lr / (1 - beta1^t)
 * ```
 * Inputs `p, m, v, g [P]`, `step_size [1]`, `bc2_sqrt [1]` (`sqrt(1 - beta2^t)`); outputs
 * `p_out, m_out, v_out [P]` (into other buffers than the inputs: the caller swaps them).
 */
import { OnnxGraphBuilder, OnnxGraphOps } from '@samtune/onnx';

/** Adam hyper-parameters that are constants of the graph (lr and t are inputs). */
export interface AdamGraphHyper {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
}

/** Graph value names of the Adam graph. */
export const ADAM_IO = {
  p: 'p',
  m: 'm',
  v: 'v',
  g: 'g',
  stepSize: 'step_size',
  bc2Sqrt: 'bc2_sqrt',
  pOut: 'p_out',
  mOut: 'm_out',
  vOut: 'v_out',
} as const;

/** The serialized Adam model for a flat vector of `size` values. */
export function adamModelBytes(size: number, h: AdamGraphHyper): Uint8Array {
  const ops = new OnnxGraphOps(new Map(), new OnnxGraphBuilder({ name: 'samtune_adam' }));
  const p = ops.input(ADAM_IO.p, [size]);
  const m = ops.input(ADAM_IO.m, [size]);
  const v = ops.input(ADAM_IO.v, [size]);
  let g = ops.input(ADAM_IO.g, [size]);
  const stepSize = ops.input(ADAM_IO.stepSize, [1]);
  const bc2 = ops.input(ADAM_IO.bc2Sqrt, [1]);
  if (h.weightDecay > 0) g = ops.add(g, ops.scale(p, h.weightDecay));
  const m2 = ops.add(m, ops.scale(ops.sub(g, m), 1 - h.beta1));
  const v2 = ops.add(ops.scale(v, h.beta2), ops.scale(ops.mul(g, g), 1 - h.beta2));
  const denom = ops.addScalar(ops.div(ops.emit('Sqrt', [v2], [size]), bc2), h.eps);
  const p2 = ops.sub(p, ops.mul(ops.div(m2, denom), stepSize));
  ops.output(ADAM_IO.pOut, p2);
  ops.output(ADAM_IO.mOut, m2);
  ops.output(ADAM_IO.vOut, v2);
  return ops.builder.toModelBytes();
}
