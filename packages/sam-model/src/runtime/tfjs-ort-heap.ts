/**
 * Zero-copy access to tfjs-backend-wasm tensor memory. Each tensor's bytes live on the wasm heap at
 * `backend.dataIdMap.get(dataId).memoryOffset`; a Float32Array view over `wasm.HEAPU8.buffer` at that
 * offset is handed to ORT as input or pre-allocated output. The heap's ArrayBuffer is replaced
 * (the old one detached) whenever wasm memory grows, so views are made AFTER every allocation of a
 * kernel call (`makeOutput`) and never kept across calls.
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** The parts of tfjs-backend-wasm's `BackendWasm` that the ORT kernels use. */
export interface WasmBackendLike {
  readonly wasm: { readonly HEAPU8: Uint8Array };
  readonly dataIdMap: { get(dataId: object): { memoryOffset: number | null; dtype: DataType } | undefined };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
}

/** Thrown when a kernel is handed a backend or tensor it cannot read from the wasm heap. */
export class WasmHeapError extends SamtuneError {
  readonly code: string = 'wasm-heap';
  readonly kind: ErrorKind = 'internal';
}

/** True when `backend` looks like tfjs-backend-wasm's backend (has a heap and a data map). */
export function isWasmBackend(backend: unknown): backend is WasmBackendLike {
  const b = backend as Partial<WasmBackendLike> | null;
  return (
    !!b &&
    typeof b === 'object' &&
    !!b.wasm &&
    b.wasm.HEAPU8 instanceof Uint8Array &&
    typeof b.dataIdMap?.get === 'function' &&
    typeof b.makeOutput === 'function'
  );
}

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A float32 view of `t`'s data on the CURRENT wasm heap (valid until the next allocation). */
export function heapF32(backend: WasmBackendLike, t: TensorInfo): Float32Array {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data || data.memoryOffset === null) {
    throw new WasmHeapError(
      `heapF32(t): tensor of shape [${t.shape.join(',')}] (${t.dtype}) has no memory on the wasm heap`,
    );
  }
  if (data.dtype !== 'float32')
    throw new WasmHeapError(`heapF32(t): expected a float32 tensor, got ${data.dtype} of shape [${t.shape.join(',')}]`);
  return new Float32Array(backend.wasm.HEAPU8.buffer, data.memoryOffset, sizeOf(t.shape));
}
