/**
 * Ops whose outputs are integers, booleans or piecewise constant: no gradient flows through them
 * (treated as zero). A gradient arriving at their output is dropped.
 */
import type { GradientRule } from '../rule.js';

export const NON_DIFFERENTIABLE_OPS = [
  'Shape',
  'Size',
  'Equal',
  'Less',
  'LessOrEqual',
  'Greater',
  'GreaterOrEqual',
  'Not',
  'And',
  'Or',
  'Xor',
  'ConstantOfShape',
  'Constant',
  'Range',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'ArgMax',
  'ArgMin',
  'NonZero',
  'IsNaN',
  'IsInf',
  'EyeLike',
  'RandomNormal',
  'RandomUniform',
  'RandomNormalLike',
  'RandomUniformLike',
] as const;

export const nonDifferentiableGrad: GradientRule = {
  opTypes: NON_DIFFERENTIABLE_OPS,
  zeroGradient: true,
  backward(args) {
    return args.node.input.map(() => undefined);
  },
};
