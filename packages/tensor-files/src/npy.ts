/**
 * NumPy `.npy` (format 1.0/2.0) read and write for float32 tensors: `samtune embed --out x.npy`
 * and `samtune predict --mask-input logits.npy`. Little-endian `<f4`, C order only.
 */
import type { FloatTensor } from '@samtune/tensor';
import { floatTensor, numel } from '@samtune/tensor';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Thrown for a `.npy` we cannot read (wrong magic, dtype, Fortran order, truncated data). */
export class NpyFormatError extends SamtuneError {
  readonly code: string = 'npy-format';
  readonly kind: ErrorKind = 'input';
}

/** Encodes a float32 tensor as `.npy` bytes (version 1.0, header padded to 64 bytes). */
export function encodeNpy(t: FloatTensor): Uint8Array {
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + t.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), 10 + header.length);
  return out;
}

/** Decodes `.npy` bytes holding a little-endian float32 C-order array. `what` names the source in errors. */
export function decodeNpy(bytes: Uint8Array, what = 'npy'): FloatTensor {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new NpyFormatError(`decodeNpy(bytes): ${what} is not a .npy file (bad magic)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr !== '<f4')
    throw new NpyFormatError(`decodeNpy(bytes): ${what} has dtype '${descr}', expected '<f4' (float32)`);
  if (fortran !== 'False') throw new NpyFormatError(`decodeNpy(bytes): ${what} is Fortran-ordered; save it in C order`);
  if (shapeText === undefined) throw new NpyFormatError(`decodeNpy(bytes): ${what} has no shape in its header`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const offset = start + headerLen;
  const need = numel(shape) * 4;
  if (bytes.length - offset < need) {
    throw new NpyFormatError(
      `decodeNpy(bytes): ${what} is truncated: shape [${shape.join(',')}] needs ${need} bytes, file has ${bytes.length - offset}`,
    );
  }
  const data = new Float32Array(numel(shape));
  new Uint8Array(data.buffer).set(bytes.subarray(offset, offset + need));
  return floatTensor(data, shape);
}
