/**
 * Nothing lost (issue 21, acceptance 5): a real server process killed with SIGKILL while a fine-tune
 * runs (the first run started by `--auto-train`) restarts serving the last active version; the interrupted version is marked failed, in the
 * versions file and in its run folder; the labels file is byte-identical and still reads as COCO.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadDataset } from '@samtune/datasets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELS_FILE } from '../labels-store.js';
import type { ApiReply } from '../test-utils/api-reply.js';
import { makeBoxDomain } from '../test-utils/box-domain.js';

let dir: string;
const children: ChildProcess[] = [];

/** Starts one server process on `dir`; resolves with it and its URL. */
function serve(autoTrain = 0): Promise<{ child: ChildProcess; url: string }> {
  const entry = join(import.meta.dirname, '..', 'test-utils', 'finetune-child.ts');
  const args = ['--import', 'tsx', '--conditions=@samtune/source', entry, dir, String(autoTrain)];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`finetune-child exited with ${code} before printing its URL`)));
    createInterface({ input: child.stdout! }).once('line', (url) => resolve({ child, url }));
  });
}

const call = async (url: string, path: string, body?: unknown): Promise<ApiReply> => {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return (await res.json()) as ApiReply;
};

const until = async (what: string, ok: () => Promise<boolean>, ms = 400_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

beforeAll(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'samtune-kill-')), 'images');
  await makeBoxDomain(dir, { count: 4, perImage: 1 });
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await rm(join(dir, '..'), { recursive: true, force: true });
});

describe('a server killed during a fine-tune', () => {
  it('restarts serving the last active version, marks the candidate failed, keeps the labels file', async () => {
    const first = await serve(5);
    // v1: started by --auto-train 5 when the fifth instance is accepted, activated by hand whatever
    // the gate said (the last active version)
    const more = { size: [72, 96], counts: [0, 96 * 72] };
    const saved = await call(first.url, '/api/labels', {
      image: 'img00.png',
      annotations: [0, 1].map(() => ({ category: 'ellipse', segmentation: more })),
    });
    expect(saved).toMatchObject({ saved: 2, total: 5 });
    await until('v1 to start', async () => (await call(first.url, '/api/finetune/status')).version === 'v1');
    await until('v1 to finish', async () => !(await call(first.url, '/api/finetune/status')).running);
    const v1 = (await call(first.url, '/api/versions')).versions?.find((v: { id: string }) => v.id === 'v1');
    expect(['active', 'rejected']).toContain(v1?.state);
    if (v1?.state !== 'active')
      expect(await call(first.url, '/api/versions/v1/activate', {})).toEqual({ active: 'v1' });

    // v2: killed while it trains
    const labels = await readFile(join(dir, LABELS_FILE));
    expect((await call(first.url, '/api/finetune', { epochs: 50 })).version).toBe('v2');
    await until('v2 to be training', async () => (await call(first.url, '/api/finetune/status')).phase === 'training');
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const second = await serve();
    expect((await call(second.url, '/api/health')).activeVersion).toBe('v1');
    const list = await call(second.url, '/api/versions');
    expect(list.active).toBe('v1');
    const v2 = list.versions?.find((v: { id: string }) => v.id === 'v2');
    expect(v2?.state).toBe('failed');
    expect(v2?.reason).toMatch(/server stopped/);
    const bases = await readdir(join(dir, '.samtune')); // the default data folder: one per base checkpoint
    expect(bases).toHaveLength(1);
    const data = join(dir, '.samtune', bases[0] as string);
    const status = JSON.parse(await readFile(join(data, 'runs', 'v2', 'status.json'), 'utf8'));
    expect(status.state).toBe('failed');
    const dec = await fetch(`${second.url}/api/decoder.onnx`);
    expect(dec.headers.get('x-samtune-version')).toBe('v1');

    const after = await readFile(join(dir, LABELS_FILE));
    expect(createHash('sha256').update(after).digest('hex')).toBe(createHash('sha256').update(labels).digest('hex'));
    const ds = await loadDataset(dir, { format: 'coco', strict: true });
    expect(ds.subsets.default?.length).toBe(4);
    second.child.kill('SIGTERM');
  }, 900_000);
});
