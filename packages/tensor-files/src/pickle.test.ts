import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PickleFormatError, UnsafePickleError, unpickle, type PyTuple } from './pickle.js';
import { P, pickle, stateDictPickle, tensorOps, torchZip } from './test-utils/test-pickle.js';
import { STATE_DICT_GLOBALS, readTorchCheckpoint } from './torch.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-pickle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeCheckpoint(name: string, pkl: Uint8Array, storages: Record<string, Uint8Array> = {}): string {
  const p = join(dir, name);
  writeFileSync(p, torchZip(pkl, storages));
  return p;
}

function expectUnsafe(fn: () => unknown, global: string): UnsafePickleError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UnsafePickleError);
  const u = err as UnsafePickleError;
  expect(u.name).toBe('UnsafePickleError');
  expect(u.global).toBe(global);
  expect(u.message).toContain(global);
  return u;
}

describe('restricted unpickler: malicious checkpoints', () => {
  const marker = join(dir, 'PWNED');
  const cmd = `touch ${marker}`;
  const cases: Array<[string, Uint8Array]> = [
    ['os.system', pickle(P.proto(), P.global('os', 'system'), P.str(cmd), P.tuple1(), P.reduce(), P.stop())],
    ['posix.system', pickle(P.proto(), P.global('posix', 'system'), P.str(cmd), P.tuple1(), P.reduce(), P.stop())],
    [
      'builtins.eval',
      pickle(
        P.proto(),
        P.global('builtins', 'eval'),
        P.str(`__import__('os').system('${cmd}')`),
        P.tuple1(),
        P.reduce(),
        P.stop(),
      ),
    ],
    [
      'subprocess.Popen',
      pickle(
        P.proto(4),
        P.shortUnicode('subprocess'),
        P.shortUnicode('Popen'),
        P.stackGlobal(),
        P.str(cmd),
        P.tuple1(),
        P.reduce(),
        P.stop(),
      ),
    ],
  ];
  for (const [global, pkl] of cases) {
    it(`refuses ${global} + REDUCE in a torch zip and runs nothing`, () => {
      const path = writeCheckpoint(`${global}.pth`, pkl);
      const err = expectUnsafe(() => readTorchCheckpoint(path), global);
      expect(err.message).toContain(path);
      expect(existsSync(marker)).toBe(false);
    });
  }

  it('refuses a forbidden global hidden after legitimate tensors', () => {
    const f32 = new Uint8Array(new Float32Array([1, 2]).buffer);
    const pkl = stateDictPickle([
      ['a', tensorOps('FloatStorage', '0', 2, 0, [2], [1])],
      ['b', [...P.global('os', 'system'), ...P.str(cmd), ...P.tuple1(), ...P.reduce()]],
    ]);
    expectUnsafe(() => readTorchCheckpoint(writeCheckpoint('hidden.pth', pkl, { '0': f32 })), 'os.system');
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses REDUCE on an allowed but non-callable global (a storage class)', () => {
    const pkl = pickle(P.proto(), P.global('torch', 'FloatStorage'), P.emptyTuple(), P.reduce(), P.stop());
    const err = expectUnsafe(() => readTorchCheckpoint(writeCheckpoint('storage-call.pth', pkl)), 'torch.FloatStorage');
    expect(err.message).toContain('REDUCE');
  });

  it('refuses REDUCE on data, NEWOBJ on a function, BUILD on a list, and INST-style opcodes', () => {
    const opts = { globals: STATE_DICT_GLOBALS };
    expectUnsafe(
      () => unpickle(pickle(P.proto(), P.str('os.system'), P.emptyTuple(), P.reduce(), P.stop()), opts),
      'a string',
    );
    expectUnsafe(
      () =>
        unpickle(
          pickle(P.proto(), P.global('torch._utils', '_rebuild_tensor_v2'), P.emptyTuple(), P.newobj(), P.stop()),
          opts,
        ),
      'torch._utils._rebuild_tensor_v2',
    );
    expectUnsafe(
      () => unpickle(pickle(P.proto(), P.emptyList(), P.emptyDict(), P.build(), P.stop()), opts),
      'BUILD on a list',
    );
    expectUnsafe(
      () => unpickle(pickle(P.proto(), [0x69], [...new TextEncoder().encode('os\nsystem\n')], P.stop()), opts),
      'opcode 0x69',
    );
  });

  it('refuses a persistent id that is not a storage', () => {
    const pkl = pickle(
      P.proto(),
      P.mark(),
      P.str('module'),
      P.global('torch', 'FloatStorage'),
      P.tuple(),
      P.persid(),
      P.stop(),
    );
    expectUnsafe(() => readTorchCheckpoint(writeCheckpoint('pid.pth', pkl)), 'BINPERSID');
  });
});

describe('restricted unpickler: data opcodes', () => {
  it('builds tuples, dicts, lists, ints, negative longs, floats, bools and None', () => {
    const v = unpickle(
      pickle(
        P.proto(),
        P.emptyDict(),
        P.binput(0),
        P.str('t'),
        P.mark(),
        P.int(-5),
        P.long1([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
        P.long1([0x00, 0xff]),
        P.float(0.25),
        P.newtrue(),
        P.none(),
        P.tuple(),
        P.setitem(),
        P.str('l'),
        P.emptyList(),
        P.mark(),
        P.int(1),
        P.int(2),
        P.appends(),
        P.setitem(),
        P.str('self'),
        P.binget(0),
        P.setitem(),
        P.stop(),
      ),
      { globals: STATE_DICT_GLOBALS },
    ) as Map<unknown, unknown>;
    const t = v.get('t') as PyTuple;
    expect(t.items).toEqual([-5, 2n ** 63n - 1n, -256, 0.25, true, null]);
    expect(v.get('l')).toEqual([1, 2]);
    expect(v.get('self')).toBe(v);
  });

  it('reports truncated data and unknown opcodes as PickleFormatError', () => {
    expect(() => unpickle(pickle(P.proto(), [0x58, 10, 0, 0, 0, 0x61]), { globals: STATE_DICT_GLOBALS })).toThrow(
      PickleFormatError,
    );
    expect(() => unpickle(pickle(P.proto(), [0x49]), { globals: STATE_DICT_GLOBALS })).toThrow(
      /unsupported opcode 0x49/,
    );
  });
});
