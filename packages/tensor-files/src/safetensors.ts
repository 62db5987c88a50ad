/**
 * safetensors read and write (https://github.com/huggingface/safetensors format: u64 LE header
 * length, JSON header `{name: {dtype, shape, data_offsets:[begin,end]}, __metadata__: {…}}`, then
 * the raw little-endian data). F16/BF16/F64 are widened to float32 on read.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { writeFileAtomic } from './fs-atomic.js';
import type { HostTensor, WeightMap } from '@samtune/tensor';
import { numel } from '@samtune/tensor';
import { ELEMENT_SIZE, materialize, type StorageDType } from './dtype.js';
import { readFully } from './zip.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown for a malformed file or an unsupported dtype; names the file and the tensor. */
export class SafetensorsError extends SamtuneError {
  readonly code: string = 'safetensors';
  readonly kind: ErrorKind = 'input';
}

const FROM_ST: Record<string, StorageDType> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};
const TO_ST: Record<HostTensor['dtype'], string> = {
  float32: 'F32',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Result of reading: tensors in header order and the `__metadata__` strings. */
export interface SafetensorsContent {
  tensors: WeightMap;
  metadata: Record<string, string>;
}

function parseHeader(
  json: string,
  src: string,
): { entries: Array<[string, HeaderEntry]>; metadata: Record<string, string> } {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new SafetensorsError(`readSafetensors(${src}): header is not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null)
    throw new SafetensorsError(`readSafetensors(${src}): header is not an object`);
  const metadata: Record<string, string> = {};
  const entries: Array<[string, HeaderEntry]> = [];
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (k === '__metadata__') {
      for (const [mk, mv] of Object.entries((v ?? {}) as Record<string, unknown>)) metadata[mk] = String(mv);
      continue;
    }
    const e = v as HeaderEntry;
    if (!e || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
      throw new SafetensorsError(
        `readSafetensors(${src}): tensor '${k}' has a malformed header entry ${JSON.stringify(v)}`,
      );
    }
    entries.push([k, e]);
  }
  return { entries, metadata };
}

/**
 * The format's layout rule, checked before any tensor is read: sizes and offsets are non-negative
 * integers and the tensors' byte ranges tile the data section from 0 without overlap or gap (so the
 * bytes read are at most the file's: overlapping ranges, each read and widened on its own, would
 * turn 4 MB into gigabytes).
 */
function checkLayout(entries: ReadonlyArray<[string, HeaderEntry]>, src: string): void {
  const nonNeg = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  for (const [name, e] of entries) {
    if (!e.shape.every(nonNeg))
      throw new SafetensorsError(
        `readSafetensors(${src}): tensor '${name}' has shape ${JSON.stringify(e.shape)}, expected non-negative integers`,
      );
    const [begin, end] = e.data_offsets;
    if (e.data_offsets.length !== 2 || !nonNeg(begin) || !nonNeg(end) || end < begin)
      throw new SafetensorsError(
        `readSafetensors(${src}): tensor '${name}' has data_offsets ${JSON.stringify(e.data_offsets)}, expected [begin, end] integers with 0 <= begin <= end`,
      );
  }
  const sorted = [...entries].sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  let at = 0;
  for (const [name, e] of sorted) {
    const [begin, end] = e.data_offsets;
    if (begin !== at)
      throw new SafetensorsError(
        `readSafetensors(${src}): tensor '${name}' starts at data byte ${begin}, expected ${at}: ${begin < at ? 'its bytes overlap another tensor' : `bytes [${at}, ${begin}) belong to no tensor`} (the format requires the tensors to tile the data)`,
      );
    at = end;
  }
}

function toTensor(name: string, e: HeaderEntry, bytes: Uint8Array, src: string): HostTensor {
  const dtype = FROM_ST[e.dtype];
  if (!dtype)
    throw new SafetensorsError(
      `readSafetensors(${src}): tensor '${name}' has dtype ${e.dtype}, expected one of ${Object.keys(FROM_ST).join(', ')}`,
    );
  const n = numel(e.shape);
  if (bytes.byteLength !== n * ELEMENT_SIZE[dtype]) {
    throw new SafetensorsError(
      `readSafetensors(${src}): tensor '${name}' ${e.dtype}[${e.shape.join(',')}] needs ${n * ELEMENT_SIZE[dtype]} bytes, offsets give ${bytes.byteLength}`,
    );
  }
  const stride: number[] = new Array<number>(e.shape.length);
  for (let k = e.shape.length - 1, s = 1; k >= 0; k--) {
    stride[k] = s;
    s *= e.shape[k]!;
  }
  return materialize(bytes, dtype, e.shape, stride, 0, true);
}

/**
 * Reads a safetensors file (by path, with positioned reads per tensor: no whole-file buffer) or
 * in-memory bytes. Every tensor gets its own aligned buffer.
 */
export function readSafetensors(pathOrBytes: string | Uint8Array): SafetensorsContent {
  const src = typeof pathOrBytes === 'string' ? pathOrBytes : '<bytes>';
  let fd: number | undefined;
  let size = typeof pathOrBytes === 'string' ? 0 : pathOrBytes.byteLength;
  /** `what` names the part read, for the truncation message. */
  const read = (pos: number, len: number, what: string): Uint8Array => {
    if (pos + len > size)
      throw new SafetensorsError(
        `readSafetensors(${src}): truncated file: ${what} needs bytes [${pos}, ${pos + len}) but the file has ${size} bytes`,
      );
    const out = new Uint8Array(new ArrayBuffer(len));
    if (typeof pathOrBytes === 'string') readFully(fd!, out, 0, len, pos, src);
    else out.set(pathOrBytes.subarray(pos, pos + len));
    return out;
  };
  if (typeof pathOrBytes === 'string') {
    fd = openSync(pathOrBytes, 'r');
    size = fstatSync(fd).size;
  }
  try {
    const lenBytes = read(0, 8, 'the header length');
    const headerLen = Number(new DataView(lenBytes.buffer).getBigUint64(0, true));
    if (headerLen > 100 * 1024 * 1024)
      throw new SafetensorsError(
        `readSafetensors(${src}): header length ${headerLen} is implausible (> 100 MiB); not a safetensors file?`,
      );
    const { entries, metadata } = parseHeader(new TextDecoder().decode(read(8, headerLen, 'the JSON header')), src);
    const base = 8 + headerLen;
    checkLayout(entries, src);
    const tensors: WeightMap = new Map();
    for (const [name, e] of entries) {
      const [begin, end] = e.data_offsets;
      tensors.set(name, toTensor(name, e, read(base + begin, end - begin, `tensor '${name}'`), src));
    }
    return { tensors, metadata };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function tensorBytes(t: HostTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** Header bytes (space-padded to 8) and the tensors in data order (larger elements first: aligned). */
function plan(
  tensors: WeightMap,
  metadata: Record<string, string>,
): { header: Uint8Array; order: HostTensor[]; dataLen: number } {
  const list = [...tensors];
  for (const [name, t] of list) {
    if (!TO_ST[t.dtype])
      throw new SafetensorsError(
        `encodeSafetensors: tensor '${name}' has dtype ${t.dtype}, expected one of ${Object.keys(TO_ST).join(', ')}`,
      );
    if (t.data.length !== numel(t.shape))
      throw new SafetensorsError(
        `encodeSafetensors: tensor '${name}' has ${t.data.length} elements but shape [${t.shape.join(',')}]`,
      );
  }
  const sorted = [...list].sort((a, b) =>
    a[1].data.BYTES_PER_ELEMENT === b[1].data.BYTES_PER_ELEMENT
      ? 0
      : b[1].data.BYTES_PER_ELEMENT - a[1].data.BYTES_PER_ELEMENT,
  );
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const offsets = new Map<string, [number, number]>();
  let off = 0;
  for (const [name, t] of sorted) {
    offsets.set(name, [off, off + t.data.byteLength]);
    off += t.data.byteLength;
  }
  for (const [name, t] of list)
    header[name] = { dtype: TO_ST[t.dtype], shape: [...t.shape], data_offsets: offsets.get(name) };
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const h = Buffer.byteLength(json);
  const out = new Uint8Array(8 + h);
  new DataView(out.buffer).setBigUint64(0, BigInt(h), true);
  out.set(new TextEncoder().encode(json), 8);
  return { header: out, order: sorted.map((x) => x[1]), dataLen: off };
}

/** Encodes tensors (+ string metadata) as safetensors bytes in memory. */
export function encodeSafetensors(tensors: WeightMap, metadata: Record<string, string> = {}): Uint8Array {
  const { header, order, dataLen } = plan(tensors, metadata);
  const out = new Uint8Array(header.length + dataLen);
  out.set(header, 0);
  let p = header.length;
  for (const t of order) {
    out.set(tensorBytes(t), p);
    p += t.data.byteLength;
  }
  return out;
}

/**
 * Writes a safetensors file atomically: streams into a temp file in the same directory, fsyncs,
 * then renames over `path` (readers never see a partial file).
 */
export function writeSafetensors(path: string, tensors: WeightMap, metadata: Record<string, string> = {}): void {
  const { header, order } = plan(tensors, metadata);
  writeFileAtomic(path, [header, ...order.map(tensorBytes)]);
}
