/**
 * Host tensors: plain typed arrays with a shape, row-major (C order), as read from checkpoints and
 * safetensors files and as handed to executors. No framework types here.
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Element types we read from checkpoints. float16/bfloat16/float64 are widened to float32 on load. */
export type DType = 'float32' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** Typed array that backs each dtype. int64 stays exact as BigInt64Array. */
export interface DTypeArray {
  float32: Float32Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int16: Int16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

/** A tensor in host memory. `data.length === numel(shape)`. */
export interface HostTensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: DTypeArray[D];
}

/** A float32 host tensor, the common case for weights and activations. */
export type FloatTensor = HostTensor<'float32'>;

/** Weights by their checkpoint key (e.g. `mask_decoder.iou_token.weight`). */
export type WeightMap = Map<string, HostTensor>;

/** Number of elements of a shape (1 for a scalar `[]`). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Thrown when a tensor's element count does not match its shape. */
export class TensorShapeError extends SamtuneError {
  readonly code: string = 'tensor-shape';
  readonly kind: ErrorKind = 'input';
}

/** Builds a float32 host tensor, checking that `data` fills `shape`. */
export function floatTensor(data: Float32Array, shape: readonly number[]): FloatTensor {
  if (data.length !== numel(shape)) {
    throw new TensorShapeError(
      `floatTensor(data, shape): data has ${data.length} elements but shape [${shape.join(',')}] needs ${numel(shape)}`,
    );
  }
  return { dtype: 'float32', shape: [...shape], data };
}

/** Returns the tensor as float32 (int types converted), for weights stored as other dtypes. */
export function toFloat32(t: HostTensor): FloatTensor {
  if (t.dtype === 'float32') return t as FloatTensor;
  const out = new Float32Array(t.data.length);
  const src = t.data;
  for (let i = 0; i < out.length; i++) out[i] = Number(src[i]);
  return { dtype: 'float32', shape: t.shape, data: out };
}
