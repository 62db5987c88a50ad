import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy, NpyFormatError } from './npy.js';
import { floatTensor } from '@samtune/tensor';

describe('npy', () => {
  it('round-trips a float32 tensor with a 64-byte aligned header', () => {
    const t = floatTensor(new Float32Array([1.5, -2, 3.25, 0, 7, 8]), [1, 2, 3]);
    const bytes = encodeNpy(t);
    expect((bytes.length - t.data.byteLength) % 64).toBe(0);
    expect(new TextDecoder().decode(bytes.subarray(10, 80))).toContain("'shape': (1, 2, 3)");
    const back = decodeNpy(bytes);
    expect(back.shape).toEqual([1, 2, 3]);
    expect(Array.from(back.data)).toEqual([1.5, -2, 3.25, 0, 7, 8]);
    expect(decodeNpy(encodeNpy(floatTensor(new Float32Array([4]), [1]))).shape).toEqual([1]);
  });

  it('names wrong dtype, truncation and bad magic', () => {
    const bytes = encodeNpy(floatTensor(new Float32Array(4), [2, 2]));
    expect(() => decodeNpy(bytes.subarray(0, bytes.length - 4), 'mask.npy')).toThrow(
      /mask.npy is truncated: shape \[2,2\] needs 16 bytes, file has 12/,
    );
    expect(() => decodeNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))).toThrow(NpyFormatError);
    const f8 = bytes.slice();
    const at = new TextDecoder('latin1').decode(f8).indexOf("'<f4'");
    f8[at + 3] = '8'.charCodeAt(0);
    expect(() => decodeNpy(f8)).toThrow(/dtype '<f8'/);
  });
});
