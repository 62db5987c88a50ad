/** Identity: `dx = dy`. */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';

export const identityGrad: GradientRule = {
  opTypes: ['Identity'],
  backward(args) {
    const dy = dy0(args);
    return [dy];
  },
};
