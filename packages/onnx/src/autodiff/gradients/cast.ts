/** Cast: to float32 the gradient passes through (a float path); to any other type the input gets none. */
import type { GradientRule } from '../rule.js';
import { dy0 } from '../rule.js';
import { attrInt } from '../context.js';
import { DataType } from '../../proto.js';

export const castGrad: GradientRule = {
  opTypes: ['Cast'],
  backward(args) {
    return [attrInt(args.node, 'to', 0) === DataType.FLOAT ? dy0(args) : undefined];
  },
};
