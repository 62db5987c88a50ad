import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnWorker, workerEntryFile, WorkerLoaderError } from './spawn-worker.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-worker-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('spawnWorker', () => {
  it('runs the .ts sibling of a missing .js through tsx, with the source condition and the workerData', async () => {
    const entry = new URL('./test-utils/echo-entry.js', import.meta.url);
    expect(workerEntryFile(entry).typescript).toBe(true);
    const w = spawnWorker(entry, { n: 21 });
    const [msg] = await once(w, 'message');
    await w.terminate();
    expect(msg).toEqual({ doubled: 42, sourceCondition: true });
  });

  it('runs a built .js directly', async () => {
    const js = join(tmp, 'entry.js');
    writeFileSync(
      js,
      "import { parentPort, workerData } from 'node:worker_threads'; parentPort.postMessage(workerData.n + 1);\n",
    );
    writeFileSync(join(tmp, 'package.json'), '{ "type": "module" }\n');
    expect(workerEntryFile(js)).toEqual({ file: js, typescript: false });
    const w = spawnWorker(js, { n: 1 });
    const [msg] = await once(w, 'message');
    await w.terminate();
    expect(msg).toBe(2);
  });

  it('names both files when neither exists', () => {
    const js = join(tmp, 'none.js');
    expect(() => spawnWorker(js, {})).toThrow(WorkerLoaderError);
    expect(() => spawnWorker(js, {})).toThrow(`spawnWorker(entry): neither ${js} nor ${join(tmp, 'none.ts')} exists`);
  });
});
