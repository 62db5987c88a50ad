/** The shape of one gradient rule: the vector-Jacobian product of one ONNX op. */
import type { OnnxOpType } from '../op-types.js';
import type { NodeProto } from '../proto.js';
import type { GradContext } from './context.js';

/** Arguments of a rule's `backward`. */
export interface GradArgs {
  /** The forward node. */
  readonly node: NodeProto;
  /** Gradient of each forward output (same shape as the output), undefined where no gradient flows in. At least one is defined. */
  readonly dy: readonly (string | undefined)[];
  /** Which inputs need a gradient (they depend on a wanted value); rules may skip the others. */
  readonly needs: readonly boolean[];
  readonly ctx: GradContext;
}

/**
 * A gradient rule: given the gradients of the node's outputs, append nodes computing the gradient
 * of each input that `needs` it, with exactly that input's static shape. Return one entry per
 * input (undefined: no gradient, e.g. an integer or a non-differentiable input).
 */
export interface GradientRule {
  /** The ONNX op types this rule differentiates: default domain by name, others as `domain.OpType` (`com.microsoft.Gelu`). */
  readonly opTypes: readonly OnnxOpType[];
  /**
   * True for ops whose outputs never carry a gradient (integer, boolean or piecewise-constant
   * results): values computed from them do not count as depending on the wanted values, so whole
   * branches behind them (an IoU target from a thresholded prediction) are not differentiated.
   */
  readonly zeroGradient?: boolean;
  backward(args: GradArgs): readonly (string | undefined)[];
}

/** `dy[0]`, which single-output rules always get. */
export function dy0(args: GradArgs): string {
  return args.dy[0] as string;
}
