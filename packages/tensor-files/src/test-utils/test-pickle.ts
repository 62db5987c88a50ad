/**
 * Test-only: emits pickle opcodes (protocol 2, as `torch.save` writes them) and packs torch-style
 * zip archives, so tests can build benign and malicious checkpoints byte by byte.
 */
import { buildStoredZip } from './zip-write.js';

const enc = new TextEncoder();

function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** Pickle opcodes as byte arrays; concatenate with `pickle(...)`. */
export const P = {
  proto: (n = 2): number[] => [0x80, n],
  global: (module: string, name: string): number[] => [0x63, ...enc.encode(`${module}\n${name}\n`)],
  stackGlobal: (): number[] => [0x93],
  shortUnicode: (s: string): number[] => {
    const b = enc.encode(s);
    return [0x8c, b.length, ...b];
  },
  str: (s: string): number[] => {
    const b = enc.encode(s);
    return [0x58, ...u32(b.length), ...b];
  },
  int: (n: number): number[] => [0x4a, ...u32(n >>> 0)],
  long1: (bytes: number[]): number[] => [0x8a, bytes.length, ...bytes],
  float: (x: number): number[] => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, false);
    return [0x47, ...b];
  },
  mark: (): number[] => [0x28],
  tuple: (): number[] => [0x74],
  tuple1: (): number[] => [0x85],
  emptyTuple: (): number[] => [0x29],
  emptyDict: (): number[] => [0x7d],
  emptyList: (): number[] => [0x5d],
  appends: (): number[] => [0x65],
  setitem: (): number[] => [0x73],
  setitems: (): number[] => [0x75],
  newfalse: (): number[] => [0x89],
  newtrue: (): number[] => [0x88],
  none: (): number[] => [0x4e],
  reduce: (): number[] => [0x52],
  newobj: (): number[] => [0x81],
  build: (): number[] => [0x62],
  persid: (): number[] => [0x51],
  binput: (i: number): number[] => [0x71, i],
  binget: (i: number): number[] => [0x68, i],
  stop: (): number[] => [0x2e],
};

export function pickle(...parts: number[][]): Uint8Array {
  return new Uint8Array(parts.flat());
}

/** Ints as a tuple: MARK int… TUPLE. */
export function intTuple(xs: readonly number[]): number[] {
  return [...P.mark(), ...xs.flatMap((x) => P.int(x)), ...P.tuple()];
}

/** `_rebuild_tensor_v2(('storage', torch.<type>, key, 'cpu', numel), offset, size, stride, False, OrderedDict())`. */
export function tensorOps(
  storageType: string,
  key: string,
  numel: number,
  offset: number,
  size: readonly number[],
  stride: readonly number[],
): number[] {
  return [
    ...P.global('torch._utils', '_rebuild_tensor_v2'),
    ...P.mark(),
    ...P.mark(),
    ...P.str('storage'),
    ...P.global('torch', storageType),
    ...P.str(key),
    ...P.str('cpu'),
    ...P.int(numel),
    ...P.tuple(),
    ...P.persid(),
    ...P.int(offset),
    ...intTuple(size),
    ...intTuple(stride),
    ...P.newfalse(),
    ...P.global('collections', 'OrderedDict'),
    ...P.emptyTuple(),
    ...P.reduce(),
    ...P.tuple(),
    ...P.reduce(),
  ];
}

/** `OrderedDict()` + SETITEMS of (key, value ops) pairs, then STOP. */
export function stateDictPickle(entries: ReadonlyArray<[string, number[]]>): Uint8Array {
  return pickle(
    P.proto(),
    P.global('collections', 'OrderedDict'),
    P.emptyTuple(),
    P.reduce(),
    P.mark(),
    ...entries.flatMap(([k, v]) => [P.str(k), v]),
    P.setitems(),
    P.stop(),
  );
}

/** A torch.save-style zip: `<archive>/data.pkl`, `<archive>/data/<key>`, `version`, `byteorder`. */
export function torchZip(
  pkl: Uint8Array,
  storages: Record<string, Uint8Array> = {},
  byteorder: 'little' | 'big' = 'little',
  archive = 'archive',
): Uint8Array {
  return buildStoredZip([
    { name: `${archive}/data.pkl`, data: pkl },
    { name: `${archive}/byteorder`, data: enc.encode(byteorder) },
    ...Object.entries(storages).map(([k, data]) => ({ name: `${archive}/data/${k}`, data })),
    { name: `${archive}/version`, data: enc.encode('3\n') },
  ]);
}

export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
}
