/**
 * Storage element types shared by the torch and safetensors readers, and conversion of raw
 * little-endian bytes into the host dtypes of `tensor.ts` (float16/bfloat16/float64 widened to
 * float32, int64 exact as BigInt64Array).
 */
import type { DType, DTypeArray, HostTensor } from '@samtune/tensor';

/** Element types as stored on disk. */
export type StorageDType =
  'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export const ELEMENT_SIZE: Readonly<Record<StorageDType, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** Host dtype a stored dtype is read as. */
export function hostDType(d: StorageDType): DType {
  return d === 'float16' || d === 'bfloat16' || d === 'float64' ? 'float32' : d;
}

/** A typed-array view of `bytes` in the stored dtype (bytes must be aligned to the element size). */
function sourceView(bytes: Uint8Array, d: StorageDType): ArrayLike<number> | BigInt64Array {
  const { buffer, byteOffset } = bytes;
  const n = bytes.byteLength / ELEMENT_SIZE[d];
  switch (d) {
    case 'float32':
      return new Float32Array(buffer, byteOffset, n);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buffer, byteOffset, n);
    case 'float64':
      return new Float64Array(buffer, byteOffset, n);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, n);
    case 'int32':
      return new Int32Array(buffer, byteOffset, n);
    case 'int16':
      return new Int16Array(buffer, byteOffset, n);
    case 'int8':
      return new Int8Array(buffer, byteOffset, n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer, byteOffset, n);
  }
}

function allocHost(d: DType, n: number): DTypeArray[DType] {
  switch (d) {
    case 'float32':
      return new Float32Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(n);
  }
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** IEEE half → float32 bits, exact (subnormals, inf, NaN). */
export function halfToFloat(h: number): number {
  const s = (h & 0x8000) << 16;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) {
    const v = m * 2 ** -24;
    return s ? -v : v;
  }
  if (e === 31) U32[0] = s | 0x7f800000 | (m << 13);
  else U32[0] = s | ((e + 112) << 23) | (m << 13);
  return F32[0]!;
}

/** bfloat16 → float32 (the upper 16 bits of a float32). */
export function bfloat16ToFloat(b: number): number {
  U32[0] = b << 16;
  return F32[0]!;
}

/** Reverses byte order of each element in place (big-endian storages). */
export function swapBytes(bytes: Uint8Array, elementSize: number): void {
  if (elementSize === 1) return;
  for (let i = 0; i < bytes.length; i += elementSize) {
    for (let a = i, b = i + elementSize - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

/**
 * Builds a contiguous host tensor from a storage: elements at `offset + sum(idx[k]*stride[k])`
 * (element units), converted to the host dtype. `storage` must start 8-byte aligned (a fresh
 * ArrayBuffer). When the tensor is the whole storage, contiguous, and needs no conversion, the
 * storage buffer is reused without a copy if `mayAlias`.
 */
export function materialize(
  storage: Uint8Array,
  dtype: StorageDType,
  shape: readonly number[],
  stride: readonly number[],
  offset: number,
  mayAlias = false,
): HostTensor {
  const host = hostDType(dtype);
  let n = 1;
  for (const d of shape) n *= d;
  let contiguous = true;
  for (let k = shape.length - 1, expect = 1; k >= 0; k--) {
    if (shape[k]! !== 1 && stride[k] !== expect) contiguous = false;
    expect *= shape[k]!;
  }
  const es = ELEMENT_SIZE[dtype];
  if (contiguous && host === dtype) {
    const start = offset * es;
    const len = n * es;
    const bytes = mayAlias && start === 0 && len === storage.byteLength ? storage : storage.slice(start, start + len);
    return { dtype: host, shape: [...shape], data: sourceView(bytes, dtype) as DTypeArray[DType] } as HostTensor;
  }
  const src = sourceView(storage, dtype);
  const out = allocHost(host, n);
  const conv: (v: number) => number =
    dtype === 'float16' ? halfToFloat : dtype === 'bfloat16' ? bfloat16ToFloat : (v) => v;
  const set =
    out instanceof BigInt64Array
      ? (i: number, j: number) => {
          out[i] = (src as BigInt64Array)[j]!;
        }
      : (i: number, j: number) => {
          (out as Float32Array)[i] = conv((src as ArrayLike<number>)[j]!);
        };
  if (contiguous) {
    for (let i = 0; i < n; i++) set(i, offset + i);
  } else if (n > 0) {
    const rank = shape.length;
    const idx = new Array<number>(rank).fill(0);
    let j = offset;
    for (let i = 0; i < n; i++) {
      set(i, j);
      for (let k = rank - 1; k >= 0; k--) {
        idx[k]!++;
        j += stride[k]!;
        if (idx[k]! < shape[k]!) break;
        j -= stride[k]! * shape[k]!;
        idx[k] = 0;
      }
    }
  }
  return { dtype: host, shape: [...shape], data: out } as HostTensor;
}
