/**
 * `optimize` reads a model's external data: the `location` of each initializer is a path read from
 * the file and stays inside the model's folder (issue 22): no `../`, absolute path, symlink out or
 * FIFO, and the byte range stays inside the file.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, OnnxGraphBuilder, type ModelProto } from '@samtune/onnx';
import { PathOutsideFolderError } from '@samtune/sam-model';
import { ExternalDataError, toModelProto } from './quantize.js';
import { seeded } from './test-utils/graphs.js';

const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'samtune-extdata-')));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const dir = join(tmp, 'model');
mkdirSync(dir);
writeFileSync(join(tmp, 'secret.bin'), new Uint8Array(4096).fill(7));
symlinkSync(join(tmp, 'secret.bin'), join(dir, 'link.data'));
execFileSync('mkfifo', [join(dir, 'pipe.data')]);

/** `y = x · w` with a 32x32 weight (4 KB) stored as external data in `model.onnx.data`. */
function saved(): { path: string; proto: ModelProto } {
  const b = new OnnxGraphBuilder({ name: 'ext' });
  const x = b.addInput('x', [1, 32]);
  b.addInitializer('w', { dtype: 'float32', shape: [32, 32], data: seeded(1024, 1) });
  b.addNode('MatMul', [x, 'w'], {}, { name: 'mm', outputs: ['y'] });
  b.addOutput('y', [1, 32]);
  const path = join(dir, 'model.onnx');
  b.save(path, { externalData: 'always' });
  return { path, proto: decodeModel(readFileSync(path)) };
}

/** The saved model with the weight's external data entry `key` set to `value`, written as `name`. */
function withExternal(proto: ModelProto, key: string, value: string, name: string): string {
  const initializer = proto.graph.initializer.map((t) =>
    t.externalData ? { ...t, externalData: t.externalData.map((e) => (e.key === key ? { key, value } : e)) } : t,
  );
  const path = join(dir, name);
  writeFileSync(path, encodeModel({ ...proto, graph: { ...proto.graph, initializer } }));
  return path;
}

describe('toModelProto: external data', () => {
  it('inlines a location inside the folder', () => {
    const { path } = saved();
    const w = toModelProto(path).graph.initializer.find((t) => t.name === 'w');
    expect(w?.rawData?.length).toBe(4096);
    expect(new Float32Array((w?.rawData as Uint8Array).slice().buffer)[0]).toBe(seeded(1, 1)[0]);
  });

  it('refuses locations outside the folder, through a symlink, a FIFO, and a range past the file', () => {
    const { proto } = saved();
    const what = (p: string): string => `toModelProto(${p}): initializer 'w' external data location`;
    const cases: [string, string][] = [
      ['../secret.bin', `it resolves to ${join(tmp, 'secret.bin')}`],
      ['/dev/zero', 'it resolves to /dev/zero'],
      ['link.data', `a symbolic link leads to ${join(tmp, 'secret.bin')}`],
      ['pipe.data', 'it is not a regular file (FIFO, device or socket)'],
    ];
    for (const [location, why] of cases) {
      const p = withExternal(proto, 'location', location, 'bad.onnx');
      const err = (() => {
        try {
          toModelProto(p);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(PathOutsideFolderError);
      expect((err as Error).message).toBe(`${what(p)}: expected a file inside ${dir}, got '${location}' (${why})`);
    }
    const long = withExternal(proto, 'length', String(2 ** 40), 'long.onnx');
    expect(() => toModelProto(long)).toThrow(ExternalDataError);
    expect(() => toModelProto(long)).toThrow(/expected offset \+ length within .*model\.onnx\.data \(4096 bytes\)/);
  });
});
