import { describe, expect, it } from 'vitest';
import { floatTensor, numel, TensorShapeError, toFloat32 } from './tensor.js';

describe('host tensors', () => {
  it('numel is the product of the dims, 1 for a scalar', () => {
    expect(numel([2, 3, 4])).toBe(24);
    expect(numel([])).toBe(1);
    expect(numel([5, 0])).toBe(0);
  });

  it('floatTensor checks that the data fills the shape, naming both', () => {
    const t = floatTensor(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]);
    expect(t).toEqual({ dtype: 'float32', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) });
    expect(() => floatTensor(new Float32Array(5), [2, 3])).toThrow(TensorShapeError);
    expect(() => floatTensor(new Float32Array(5), [2, 3])).toThrow(
      'floatTensor(data, shape): data has 5 elements but shape [2,3] needs 6',
    );
  });

  it('toFloat32 widens integer tensors and keeps float32 ones as they are', () => {
    const f = floatTensor(Float32Array.of(0.5), [1]);
    expect(toFloat32(f)).toBe(f);
    expect(toFloat32({ dtype: 'int32', shape: [2], data: Int32Array.of(-3, 7) }).data).toEqual(Float32Array.of(-3, 7));
  });
});
