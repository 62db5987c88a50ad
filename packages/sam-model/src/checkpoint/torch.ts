/**
 * Reads official PyTorch checkpoints (`torch.save` zip format: `<archive>/data.pkl` +
 * `<archive>/data/<key>` storages) with the restricted unpickler. Only the globals a state dict
 * needs are allowed; storages are read one at a time with positioned reads, so multi-GB files
 * (ViT-H) work without loading the archive into memory.
 */
import type { HostTensor, WeightMap } from '@samtune/onnx';
import { ELEMENT_SIZE, materialize, swapBytes, type StorageDType } from './dtype.js';
import { PyGlobal, PyTuple, UnsafePickleError, unpickle, type GlobalHandler, type PyValue } from './pickle.js';
import { ZipArchive } from './zip.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown for a torch checkpoint that is not a state dict we can read; names the file and key. */
export class TorchCheckpointError extends SamtuneError {
  readonly code: string = 'torch-checkpoint';
  readonly kind: ErrorKind = 'input';
  override readonly name = 'TorchCheckpointError';
}

/**
 * Largest `data.pkl` read (bytes). The pickle of a state dict holds only names, shapes and storage
 * keys: ViT-H's is about 60 KB; anything near this bound is not a state dict.
 */
export const MAX_PICKLE_BYTES = 64 * 1024 * 1024;

/** A storage named by a persistent id `('storage', type, key, location, numel)`. */
export class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: StorageDType,
    readonly numel: number,
    readonly location: string,
  ) {}
}

/** A tensor view of a storage, as `_rebuild_tensor_v2` describes it (element units). */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

const STORAGE_CLASSES: Record<string, StorageDType> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};
const DTYPE_NAMES: Record<string, StorageDType> = {
  float32: 'float32',
  float16: 'float16',
  bfloat16: 'bfloat16',
  float64: 'float64',
  int64: 'int64',
  int32: 'int32',
  int16: 'int16',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
};

function ints(v: PyValue | undefined, what: string): number[] {
  if (!(v instanceof PyTuple) || !v.items.every((x) => typeof x === 'number')) {
    throw new TorchCheckpointError(`_rebuild_tensor_v2: ${what} must be a tuple of ints`);
  }
  return v.items as number[];
}

function rebuildTensor(args: readonly PyValue[]): TensorRef {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef) || typeof offset !== 'number') {
    throw new TorchCheckpointError(
      '_rebuild_tensor_v2(storage, storage_offset, size, stride, …): expected a storage and an int offset',
    );
  }
  return new TensorRef(storage, offset, ints(size, 'size'), ints(stride, 'stride'));
}

function unwrapParameter(args: readonly PyValue[]): PyValue {
  const data = args[0];
  if (!(data instanceof TensorRef)) throw new TorchCheckpointError('_rebuild_parameter(data, …): data is not a tensor');
  return data;
}

/** The allow-list: everything a `torch.save(model.state_dict())` pickle references, nothing more. */
export const STATE_DICT_GLOBALS: ReadonlyMap<string, GlobalHandler> = new Map<string, GlobalHandler>([
  [
    'collections.OrderedDict',
    {
      call: (args) => {
        const m = new Map<PyValue, PyValue>();
        const pairs = args[0];
        if (Array.isArray(pairs))
          for (const p of pairs) if (p instanceof PyTuple && p.items.length === 2) m.set(p.items[0]!, p.items[1]!);
        return m;
      },
      newobj: () => new Map<PyValue, PyValue>(),
    },
  ],
  ['torch._utils._rebuild_tensor_v2', { call: rebuildTensor }],
  ['torch._utils._rebuild_parameter', { call: unwrapParameter }],
  ['torch._utils._rebuild_parameter_with_state', { call: unwrapParameter }],
  ...Object.entries(STORAGE_CLASSES).map(([n, d]): [string, GlobalHandler] => [`torch.${n}`, { tag: d }]),
  ...Object.entries(DTYPE_NAMES).map(([n, d]): [string, GlobalHandler] => [`torch.${n}`, { tag: d }]),
]);

function persistentLoad(pid: PyValue, file: string): StorageRef {
  const items = pid instanceof PyTuple ? pid.items : [];
  const [kind, type, key, location, numel] = items;
  const dtype = type instanceof PyGlobal ? (type.handler.tag as StorageDType | undefined) : undefined;
  if (
    kind !== 'storage' ||
    !dtype ||
    typeof key !== 'string' ||
    typeof numel !== 'number' ||
    !Number.isSafeInteger(numel) ||
    numel < 0
  ) {
    throw new UnsafePickleError(
      `readTorchCheckpoint(${file}): persistent id (BINPERSID) is not ('storage', <torch storage type>, key, location, numel)`,
      'BINPERSID',
    );
  }
  return new StorageRef(key, dtype, numel, typeof location === 'string' ? location : 'cpu');
}

/** The state dict inside a checkpoint: unwraps a top-level `{'model': …}` / `{'state_dict': …}`. */
function stateDictOf(root: PyValue, file: string): Map<PyValue, PyValue> {
  if (!(root instanceof Map))
    throw new TorchCheckpointError(`readTorchCheckpoint(${file}): top-level object is not a dict`);
  for (const k of ['model', 'state_dict']) {
    const inner = root.get(k);
    if (inner instanceof Map) return inner;
  }
  return root;
}

/**
 * Most elements materialised from one storage, summed over the tensors that view it, as a multiple of
 * its element count: tied weights (two names, one tensor) use 2; many views of one storage (each is
 * copied) beyond this are a memory bomb, not a state dict.
 */
export const MAX_VIEW_EXPANSION = 4;

/**
 * Checks a view before anything is allocated for it: sizes, strides and the offset are non-negative
 * integers, the view has no more elements than its storage (a stride-0 view of a small storage is a
 * memory bomb) and every element it reaches lies inside the storage.
 * @returns the view's element count
 */
function checkView(path: string, name: string, t: TensorRef): number {
  const s = t.storage;
  const what = `readTorchCheckpoint(${path}): tensor '${name}' [${t.shape.join(',')}] stride (${t.stride.join(',')}) offset ${t.offset}`;
  const nonNeg = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;
  if (t.shape.length !== t.stride.length || !t.shape.every(nonNeg) || !t.stride.every(nonNeg) || !nonNeg(t.offset))
    throw new TorchCheckpointError(
      `${what}: expected non-negative integer sizes, strides and offset, one stride per size`,
    );
  let n = 1;
  for (const d of t.shape) n = Math.min(n * d, Number.MAX_SAFE_INTEGER);
  if (n > s.numel)
    throw new TorchCheckpointError(
      `${what}: has ${n} elements, expected at most its storage's ${s.numel} (overlapping or stride-0 view)`,
    );
  if (n === 0) return 0;
  let end = t.offset;
  for (let d = 0; d < t.shape.length; d++) end += (t.shape[d]! - 1) * t.stride[d]!;
  if (end >= s.numel) throw new TorchCheckpointError(`${what}: reaches element ${end} of a storage of ${s.numel}`);
  return n;
}

/** The archive's state-dict tensor views (no storage read) and the folder prefix inside the zip. */
function readTensorRefs(zip: ZipArchive, path: string): { prefix: string; refs: Array<[string, TensorRef]> } {
  const pkl = [...zip.entries.keys()].find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pkl)
    throw new TorchCheckpointError(
      `readTorchCheckpoint(${path}): no data.pkl in the archive (not a torch.save zip; legacy pre-1.6 tar/pickle checkpoints are not supported)`,
    );
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const root = unpickle(zip.read(pkl, { maxBytes: MAX_PICKLE_BYTES }), {
    globals: STATE_DICT_GLOBALS,
    persistentLoad: (pid) => persistentLoad(pid, path),
    source: `${path}:${pkl}`,
  });
  const refs: Array<[string, TensorRef]> = [];
  for (const [k, v] of stateDictOf(root, path)) if (typeof k === 'string' && v instanceof TensorRef) refs.push([k, v]);
  return { prefix, refs };
}

/**
 * The tensor shapes of a `torch.save` state dict by key, from its pickle alone (no tensor data is
 * read): enough to infer a config or tell a model family before loading.
 */
export function readTorchCheckpointShapes(path: string): Map<string, readonly number[]> {
  const zip = ZipArchive.open(path);
  try {
    return new Map(readTensorRefs(zip, path).refs.map(([k, t]) => [k, t.shape]));
  } finally {
    zip.close();
  }
}

/**
 * Reads a `torch.save` state dict into host tensors (row-major, contiguous). float16/bfloat16/
 * float64 become float32, int64 stays BigInt64Array. Keys keep the checkpoint's order. Entries
 * that are not tensors are skipped.
 * @throws UnsafePickleError when the pickle references anything but state-dict globals.
 */
export function readTorchCheckpoint(path: string): WeightMap {
  const zip = ZipArchive.open(path);
  try {
    const { prefix, refs } = readTensorRefs(zip, path);
    const bo = zip.entries.get(`${prefix}byteorder`);
    const bigEndian = bo ? new TextDecoder().decode(zip.read(bo, { maxBytes: 64 })).trim() === 'big' : false;

    const byStorage = new Map<string, Array<[string, TensorRef]>>();
    for (const r of refs) {
      const list = byStorage.get(r[1].storage.key) ?? [];
      list.push(r);
      byStorage.set(r[1].storage.key, list);
    }
    const tensors = new Map<string, HostTensor>();
    for (const [key, users] of byStorage) {
      const s = users[0]![1].storage;
      const es = ELEMENT_SIZE[s.dtype];
      // A storage file is exactly numel x element size: nothing larger is inflated.
      const bytes = zip.read(`${prefix}data/${key}`, { maxBytes: s.numel * es });
      if (bytes.byteLength < s.numel * es) {
        throw new TorchCheckpointError(
          `readTorchCheckpoint(${path}): storage '${key}' has ${bytes.byteLength} bytes, expected ${s.numel} x ${es}`,
        );
      }
      if (bigEndian) swapBytes(bytes, es);
      let materialised = 0;
      for (const [name, t] of users) {
        materialised += checkView(path, name, t);
        if (materialised > MAX_VIEW_EXPANSION * s.numel)
          throw new TorchCheckpointError(
            `readTorchCheckpoint(${path}): the ${users.length} tensors viewing storage '${key}' (up to '${name}') need ${materialised} elements, expected at most ${MAX_VIEW_EXPANSION} x the storage's ${s.numel}`,
          );
        tensors.set(name, materialize(bytes, s.dtype, t.shape, t.stride, t.offset, users.length === 1));
      }
    }
    // Keep the checkpoint order.
    const out: WeightMap = new Map();
    for (const [k] of refs) out.set(k, tensors.get(k)!);
    return out;
  } finally {
    zip.close();
  }
}
