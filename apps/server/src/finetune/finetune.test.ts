/**
 * Fine-tuning from the server on real numbers (issue 21, acceptance 2): on a domain where the
 * decoder can learn the mask from the box (`makeBoxDomain`), a short run from the seeded TinyViT
 * checkpoint improves the held-out F1 and is activated (hot-swapped into the model worker); a run
 * with a learning rate that diverges is rejected and the serving version stays.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type SamServer } from '../server.js';
import { makeBoxDomain } from '../test-utils/box-domain.js';
import { referencePath } from '../test-utils/fixtures.js';
import type { VersionInfo } from './versions.js';

let dir: string;
let srv: SamServer;

const api = async (
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; json: any }> => {
  const res = await fetch(`${srv.url}${path}`, {
    method: init.method ?? 'GET',
    ...(init.body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) }),
  });
  return { status: res.status, json: await res.json() };
};

/** Starts a run and waits for its outcome. */
async function finetune(body: { epochs?: number; lr?: number }): Promise<VersionInfo> {
  const started = await api('/api/finetune', { method: 'POST', body });
  expect(started).toMatchObject({ status: 202, json: { state: 'training' } });
  const info = await srv.versions?.finetuner.current;
  expect(info?.id).toBe(started.json.version);
  return info as VersionInfo;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samtune-finetune-'));
  await makeBoxDomain(join(dir, 'images'), { count: 8, perImage: 2 });
  srv = await startServer({
    model: { checkpoint: referencePath('tinyvit.pth') },
    imagesDir: join(dir, 'images'),
    port: 0,
    finetune: { epochs: 3, clicks: 20 },
  });
}, 120_000);

afterAll(async () => {
  await srv?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('fine-tune from the server (seeded TinyViT, ellipses inscribed in their boxes)', () => {
  it('starts at v0 and refuses a second run while one is going on', async () => {
    expect((await api('/api/health')).json.activeVersion).toBe('v0');
    const list = await api('/api/versions');
    expect(list.json).toMatchObject({ active: 'v0', versions: [{ id: 'v0', state: 'active', parent: null }] });
  });

  it('a short run improves the held-out F1, is activated and swapped in; the run folder has its files', async () => {
    const before = (await fetch(`${srv.url}/api/decoder.onnx`)).headers.get('x-samtune-decoder-sha256');
    const v = await finetune({ epochs: 3, lr: 1e-3 });
    expect(v.reason).toMatch(/^accepted/);
    expect(v.state).toBe('active');
    expect(v.metrics?.f1).toBeGreaterThan((v.baseline?.f1 ?? 1) + 0.02);
    expect(v.metrics?.noc90).toBeLessThanOrEqual(v.baseline?.noc90 ?? 0);
    expect(v.metrics?.prompts).toBeGreaterThan(0);
    console.log('accepted run', JSON.stringify({ metrics: v.metrics, baseline: v.baseline }));
    expect((await api('/api/health')).json.activeVersion).toBe(v.id);
    const after = await fetch(`${srv.url}/api/decoder.onnx`);
    expect(after.headers.get('x-samtune-version')).toBe(v.id);
    expect(after.headers.get('x-samtune-decoder-sha256')).not.toBe(before);
    const run = join(srv.versions?.dataDir ?? '', v.runDir ?? '');
    for (const f of [
      'best.safetensors',
      'config.yaml',
      'results.csv',
      'report.md',
      'labels.json',
      'version.json',
      'status.json',
    ])
      expect((await stat(join(run, f))).size).toBeGreaterThan(0);
    expect(await readFile(join(run, 'report.md'), 'utf8')).toMatch(/NoC@85/);
  }, 600_000);

  it('a diverging learning rate is rejected with its reason, and the serving version stays', async () => {
    const active = (await api('/api/versions')).json.active as string;
    const v = await finetune({ epochs: 2, lr: 1 });
    console.log('diverging run', JSON.stringify(v));
    expect(v.state).toBe('rejected');
    expect(v.reason).toMatch(/^rejected/);
    expect((await api('/api/versions')).json.active).toBe(active);
    expect((await api('/api/health')).json.activeVersion).toBe(active);
  }, 600_000);

  it('rollback returns to v0; a rejected version can be activated by hand; unknown ids are 404', async () => {
    const list = (await api('/api/versions')).json as { active: string; versions: VersionInfo[] };
    const rejected = list.versions.find((x) => x.state === 'rejected');
    expect((await api('/api/versions/rollback', { method: 'POST' })).json).toEqual({ active: 'v0' });
    expect((await api('/api/health')).json.activeVersion).toBe('v0');
    if (rejected?.decoderSha256) {
      expect((await api(`/api/versions/${rejected.id}/activate`, { method: 'POST' })).json).toEqual({
        active: rejected.id,
      });
      expect((await api('/api/versions/rollback', { method: 'POST' })).json).toEqual({ active: 'v0' });
    }
    expect((await api('/api/versions/v99/activate', { method: 'POST' })).status).toBe(404);
    expect((await api('/api/versions/rollback', { method: 'POST' })).status).toBe(409);
  });
});
