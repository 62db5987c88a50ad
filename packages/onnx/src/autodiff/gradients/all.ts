/** The built-in gradient rules, one file each. */
import type { GradientRule } from '../rule.js';
import { absGrad } from './abs.js';
import { addGrad } from './add.js';
import { castGrad } from './cast.js';
import { clipGrad } from './clip.js';
import { concatGrad } from './concat.js';
import { convGrad } from './conv.js';
import { convTransposeGrad } from './conv-transpose.js';
import { cosGrad } from './cos.js';
import { divGrad } from './div.js';
import { erfGrad } from './erf.js';
import { expGrad } from './exp.js';
import { expandGrad } from './expand.js';
import { gatherGrad } from './gather.js';
import { geluGrad } from './gelu.js';
import { gemmGrad } from './gemm.js';
import { identityGrad } from './identity.js';
import { layerNormalizationGrad } from './layer-normalization.js';
import { logGrad } from './log.js';
import { logSoftmaxGrad } from './log-softmax.js';
import { matmulGrad } from './matmul.js';
import { maxMinGrad } from './max.js';
import { mulGrad } from './mul.js';
import { negGrad } from './neg.js';
import { nonDifferentiableGrad } from './non-differentiable.js';
import { padGrad } from './pad.js';
import { powGrad } from './pow.js';
import { reciprocalGrad } from './reciprocal.js';
import { reduceMeanGrad } from './reduce-mean.js';
import { reduceSumGrad } from './reduce-sum.js';
import { reluGrad } from './relu.js';
import { reshapeGrad } from './reshape.js';
import { sigmoidGrad } from './sigmoid.js';
import { sinGrad } from './sin.js';
import { sliceGrad } from './slice.js';
import { softmaxGrad } from './softmax.js';
import { softplusGrad } from './softplus.js';
import { sqrtGrad } from './sqrt.js';
import { subGrad } from './sub.js';
import { sumGrad } from './sum.js';
import { tanhGrad } from './tanh.js';
import { transposeGrad } from './transpose.js';
import { whereGrad } from './where.js';

export const BUILTIN_RULES: readonly GradientRule[] = [
  absGrad,
  addGrad,
  castGrad,
  clipGrad,
  concatGrad,
  convGrad,
  convTransposeGrad,
  cosGrad,
  divGrad,
  erfGrad,
  expGrad,
  expandGrad,
  gatherGrad,
  geluGrad,
  gemmGrad,
  identityGrad,
  layerNormalizationGrad,
  logGrad,
  logSoftmaxGrad,
  matmulGrad,
  maxMinGrad,
  mulGrad,
  negGrad,
  nonDifferentiableGrad,
  padGrad,
  powGrad,
  reciprocalGrad,
  reduceMeanGrad,
  reduceSumGrad,
  reluGrad,
  reshapeGrad,
  sigmoidGrad,
  sinGrad,
  sliceGrad,
  softmaxGrad,
  softplusGrad,
  sqrtGrad,
  subGrad,
  sumGrad,
  tanhGrad,
  transposeGrad,
  whereGrad,
];
