/**
 * A restricted unpickler: a small pickle VM (protocol 2, plus the few protocol 4 framing opcodes)
 * that only BUILDS DATA. It never imports or calls anything: a GLOBAL resolves only against the
 * allow-list handed in by the caller (see `torch.ts`), and REDUCE/NEWOBJ/BUILD run only the
 * TypeScript handlers that allow-list provides. Any other global, or a call on a value that is not
 * an allowed callable, throws `UnsafePickleError` before anything else happens.
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when a pickle asks for a global (or a call) outside the allow-list. No code has run. */
export class UnsafePickleError extends SamtuneError {
  readonly code: string = 'unsafe-pickle';
  readonly kind: ErrorKind = 'input';
  constructor(
    message: string,
    /** The offending global as `module.name` (or a description of the refused operation). */
    readonly global: string,
  ) {
    super(message);
  }
}

/** Thrown for malformed pickle bytes (unknown opcode, stack underflow, truncated data). */
export class PickleFormatError extends SamtuneError {
  readonly code: string = 'pickle-format';
  readonly kind: ErrorKind = 'input';
}

/** A Python tuple (lists are plain arrays, dicts are `Map`s). */
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

/** An allowed global, resolved by the caller's table. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly handler: GlobalHandler,
  ) {}
  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
}

/** Values the VM can produce. `object` covers opaque values built by handlers (tensor refs, …). */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | Map<PyValue, PyValue>
  | PyGlobal
  | object;

/** What an allowed global may do. A handler without `call` is a plain value (e.g. a storage type). */
export interface GlobalHandler {
  /** REDUCE `global(*args)`. */
  call?(args: readonly PyValue[]): PyValue;
  /** NEWOBJ `cls.__new__(cls, *args)`. */
  newobj?(args: readonly PyValue[]): PyValue;
  /** Opaque payload for the caller (e.g. the dtype of a storage class). */
  readonly tag?: unknown;
}

export interface UnpickleOptions {
  /** Allowed globals by `module.name`. */
  readonly globals: ReadonlyMap<string, GlobalHandler>;
  /** BINPERSID handler (torch: storage ids). Without it a persistent id is refused. */
  readonly persistentLoad?: (pid: PyValue) => PyValue;
  /** BUILD handler for objects built by handlers; return false to refuse. Maps accept dict state. */
  readonly build?: (obj: PyValue, state: PyValue) => boolean;
  /** Where the bytes came from, for messages. */
  readonly source?: string;
}

/** Runs the restricted VM over `bytes` and returns the value left by STOP. */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions): PyValue {
  const src = opts.source ?? 'pickle';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder('utf-8');
  let stack: PyValue[] = [];
  const metastack: PyValue[][] = [];
  const memo = new Map<number, PyValue>();
  let pos = 0;

  const fail = (msg: string): never => {
    throw new PickleFormatError(`unpickle(${src}): ${msg} at byte ${pos}`);
  };
  const need = (n: number): void => {
    if (pos + n > bytes.length) fail(`truncated data, wanted ${n} more bytes of ${bytes.length}`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} too large`);
    return Number(v);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated GLOBAL line');
    const s = dec.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    if (stack.length === 0) fail('stack underflow');
    return stack.pop()!;
  };
  const top = (): PyValue => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1]!;
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) fail('MARK expected');
    stack = prev!;
    return items;
  };
  const resolveGlobal = (module: string, name: string): PyGlobal => {
    const q = `${module}.${name}`;
    const h = opts.globals.get(q);
    if (!h) {
      throw new UnsafePickleError(
        `unpickle(${src}): global '${q}' is not allowed; a state dict may only use ${[...opts.globals.keys()].join(', ')}. Refused before running anything.`,
        q,
      );
    }
    return new PyGlobal(module, name, h);
  };
  const describe = (v: PyValue): string =>
    v instanceof PyGlobal
      ? `'${v.qualname}'`
      : `a ${v === null ? 'None' : Array.isArray(v) ? 'list' : v instanceof Map ? 'dict' : typeof v === 'object' ? v.constructor.name : typeof v}`;
  const argsOf = (v: PyValue, op: string): readonly PyValue[] => {
    if (!(v instanceof PyTuple)) fail(`${op} arguments must be a tuple, got ${describe(v)}`);
    return (v as PyTuple).items;
  };
  const setItems = (target: PyValue, kv: readonly PyValue[]): void => {
    if (!(target instanceof Map)) fail(`SETITEM(S) on ${describe(target)}, expected a dict`);
    const m = target as Map<PyValue, PyValue>;
    for (let i = 0; i + 1 < kv.length; i += 2) m.set(kv[i]!, kv[i + 1]!);
  };
  const append = (target: PyValue, items: readonly PyValue[]): void => {
    if (!Array.isArray(target)) fail(`APPEND(S) on ${describe(target)}, expected a list`);
    (target as PyValue[]).push(...items);
  };
  const str = (b: Uint8Array): string => dec.decode(b);
  const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80:
        u8();
        break; // PROTO
      case 0x95:
        u64();
        break; // FRAME (protocol 4): framing only
      case 0x2e: {
        // STOP
        const v = pop();
        return v;
      }
      case 0x28:
        metastack.push(stack);
        stack = [];
        break; // MARK
      case 0x29:
        stack.push(new PyTuple([]));
        break; // EMPTY_TUPLE
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x85:
        stack.push(new PyTuple([pop()]));
        break; // TUPLE1
      case 0x86: {
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b]));
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b, c]));
        break;
      } // TUPLE3
      case 0x74: {
        const items = popMark();
        stack.push(new PyTuple(items));
        break;
      } // TUPLE
      case 0x6c: {
        const items = popMark();
        stack.push(items);
        break;
      } // LIST
      case 0x64: {
        const items = popMark();
        const m = new Map<PyValue, PyValue>();
        setItems(m, items);
        stack.push(m);
        break;
      } // DICT
      case 0x73: {
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      } // SETITEM
      case 0x75: {
        const items = popMark();
        setItems(top(), items);
        break;
      } // SETITEMS
      case 0x61: {
        const v = pop();
        append(top(), [v]);
        break;
      } // APPEND
      case 0x65: {
        const items = popMark();
        append(top(), items);
        break;
      } // APPENDS
      case 0x4a: {
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      } // BININT
      case 0x4b:
        stack.push(u8());
        break; // BININT1
      case 0x4d:
        stack.push(u16());
        break; // BININT2
      case 0x8a:
        stack.push(decodeLong(take(u8())));
        break; // LONG1
      case 0x8b:
        stack.push(decodeLong(take(u32())));
        break; // LONG4
      case 0x47: {
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      } // BINFLOAT (big-endian)
      case 0x58:
        stack.push(str(take(u32())));
        break; // BINUNICODE
      case 0x8c:
        stack.push(str(take(u8())));
        break; // SHORT_BINUNICODE
      case 0x8d:
        stack.push(str(take(u64())));
        break; // BINUNICODE8
      case 0x55:
        stack.push(latin1(take(u8())));
        break; // SHORT_BINSTRING
      case 0x54:
        stack.push(latin1(take(u32())));
        break; // BINSTRING
      case 0x43:
        stack.push(take(u8()).slice());
        break; // SHORT_BINBYTES
      case 0x42:
        stack.push(take(u32()).slice());
        break; // BINBYTES
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x63: {
        const module = line();
        const name = line();
        stack.push(resolveGlobal(module, name));
        break;
      } // GLOBAL
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyGlobal) || !fn.handler.call) {
          const what = fn instanceof PyGlobal ? fn.qualname : describe(fn);
          throw new UnsafePickleError(
            `unpickle(${src}): REDUCE on ${describe(fn)} refused at byte ${at}: it is not an allowed callable. No code was run.`,
            what,
          );
        }
        stack.push(fn.handler.call(argsOf(args, `REDUCE ${fn.qualname}`)));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        if (!(cls instanceof PyGlobal) || !cls.handler.newobj) {
          const what = cls instanceof PyGlobal ? cls.qualname : describe(cls);
          throw new UnsafePickleError(
            `unpickle(${src}): NEWOBJ on ${describe(cls)} refused at byte ${at}: not an allowed class. No code was run.`,
            what,
          );
        }
        stack.push(cls.handler.newobj(argsOf(args, `NEWOBJ ${cls.qualname}`)));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = top();
        const ok =
          obj instanceof Map
            ? state instanceof Map || state === null || state instanceof PyTuple
            : (opts.build?.(obj, state) ?? false);
        if (!ok) {
          throw new UnsafePickleError(
            `unpickle(${src}): BUILD on ${describe(obj)} with state ${describe(state)} refused at byte ${at}. No code was run.`,
            `BUILD on ${describe(obj)}`,
          );
        }
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad)
          throw new UnsafePickleError(
            `unpickle(${src}): persistent id at byte ${at} but no persistent loader`,
            'BINPERSID',
          );
        stack.push(opts.persistentLoad(pid));
        break;
      }
      case 0x71:
        memo.set(u8(), top());
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top());
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x68:
      case 0x6a: {
        // BINGET, LONG_BINGET
        const idx = op === 0x68 ? u8() : u32();
        if (!memo.has(idx)) fail(`memo key ${idx} missing`);
        stack.push(memo.get(idx)!);
        break;
      }
      case 0x30:
        pop();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        stack.push(top());
        break; // DUP
      case 0x69:
      case 0x6f:
      case 0x82:
      case 0x83:
      case 0x84: // INST, OBJ, EXT1/2/4: instantiate arbitrary classes
        throw new UnsafePickleError(
          `unpickle(${src}): opcode 0x${op.toString(16)} (instantiates a class) refused at byte ${at}. No code was run.`,
          `opcode 0x${op.toString(16)}`,
        );
      default:
        pos = at;
        fail(`unsupported opcode 0x${op.toString(16)} ('${String.fromCharCode(op)}')`);
    }
  }
}

/** Little-endian two's-complement integer; a number when it fits exactly, else a bigint. */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
