/**
 * Fine-tuning from the server, gated on real numbers (issue 21, acceptance 2): runs from the seeded
 * TinyViT checkpoint on ellipses inscribed in their boxes (`makeBoxDomain`), each validated with F1
 * and clicks-to-quality on held-out images against the serving version. A run that is not worse is
 * activated (hot-swapped into the model worker); a harmful learning rate is rejected and the serving
 * version stays (lr 0.5: the held-out F1 rises, 0.054 -> 0.22, by masking everything, while the
 * IoU after one click falls, 0.10 -> 0). Measured caveat: with seeded (random) weights no setting
 * tried made the held-out numbers improve together within a short run, so the accepted case here is
 * the "not worse" one (a learning rate too small to flip a pixel).
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type SamServer } from '../server.js';
import { makeBoxDomain } from '../test-utils/box-domain.js';
import type { ApiReply } from '../test-utils/api-reply.js';
import { referencePath } from '../test-utils/fixtures.js';
import { gate } from './gate.js';
import type { VersionInfo, VersionMetrics } from './versions.js';

let dir: string;
let srv: SamServer;

const api = async (
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; json: ApiReply }> => {
  const res = await fetch(`${srv.url}${path}`, {
    method: init.method ?? 'GET',
    ...(init.body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) }),
  });
  return { status: res.status, json: (await res.json()) as ApiReply };
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
    finetune: { epochs: 2, clicks: 20 },
  });
}, 120_000);

afterAll(async () => {
  await srv?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('fine-tune from the server (seeded TinyViT, ellipses inscribed in their boxes)', () => {
  it('starts at v0', async () => {
    expect((await api('/api/health')).json.activeVersion).toBe('v0');
    const list = await api('/api/versions');
    expect(list.json).toMatchObject({ active: 'v0', versions: [{ id: 'v0', state: 'active', parent: null }] });
  });

  it('a run that is not worse on the held-out labels is activated and swapped in; its run folder has its files', async () => {
    const before = (await fetch(`${srv.url}/api/decoder.onnx`)).headers.get('x-samtune-decoder-sha256');
    // a learning rate too small to flip a pixel: the held-out numbers equal the serving version's
    const v = await finetune({ epochs: 1, lr: 1e-9 });
    console.log('small-lr run', JSON.stringify({ metrics: v.metrics, baseline: v.baseline, reason: v.reason }));
    expect(v.metrics?.prompts).toBeGreaterThan(0);
    expect(v.metrics?.noc90).toBeGreaterThanOrEqual(1);
    expect(v.metrics?.noc90).toBeLessThanOrEqual(20);
    expect(v.reason).toBe(gate(v.metrics as VersionMetrics, v.baseline as VersionMetrics, 'v0').reason);
    expect(v.reason).toMatch(/^accepted/);
    expect(v.state).toBe('active');
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

  it('a harmful learning rate is rejected with its numbers and reason, and the serving version stays', async () => {
    const active = (await api('/api/versions')).json.active as string;
    const v = await finetune({ epochs: 2, lr: 0.5 });
    console.log('harmful-lr run', JSON.stringify({ metrics: v.metrics, baseline: v.baseline, reason: v.reason }));
    expect(v.state).toBe('rejected');
    expect(v.reason).toMatch(/^rejected: (the training diverged|worse than the serving version)/);
    if (v.metrics) expect(v.reason).toBe(gate(v.metrics, v.baseline as VersionMetrics, active).reason);
    expect((await api('/api/versions')).json.active).toBe(active);
    expect((await api('/api/health')).json.activeVersion).toBe(active);
  }, 600_000);

  it('streams progress and the outcome as server-sent events; refuses a second run; cancelling keeps the serving version', async () => {
    const active = (await api('/api/versions')).json.active as string;
    const ac = new AbortController();
    const res = await fetch(`${srv.url}/api/finetune/events`, { signal: ac.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const next = async (event: string): Promise<Record<string, unknown>> => {
      for (;;) {
        const m = new RegExp(`event: ${event}\ndata: (.*)\n\n`).exec(text);
        if (m) {
          text = text.slice((m.index ?? 0) + m[0].length);
          return JSON.parse(m[1] as string) as Record<string, unknown>;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before a ${event} event`);
        text += value;
      }
    };
    const started = await api('/api/finetune', { method: 'POST', body: { epochs: 50 } });
    expect(started.status).toBe(202);
    expect(await next('progress')).toMatchObject({
      version: started.json.version,
      phase: 'preparing',
      epoch: 0,
      epochs: 50,
    });
    const again = await api('/api/finetune', { method: 'POST', body: {} });
    expect(again.status).toBe(409);
    expect(again.json.error?.code).toBe('FINETUNE_RUNNING');
    expect((await api('/api/finetune/status')).json).toMatchObject({ running: true, version: started.json.version });
    expect((await api('/api/finetune/cancel', { method: 'POST' })).json).toEqual({ cancelled: true });
    expect(await next('done')).toMatchObject({ id: started.json.version, state: 'cancelled' });
    ac.abort();
    const status = (await api('/api/finetune/status')).json;
    expect(status).toMatchObject({ running: false, last: { state: 'cancelled' } });
    expect((await api('/api/versions')).json.active).toBe(active);
    expect((await api('/api/finetune/cancel', { method: 'POST' })).json).toEqual({ cancelled: false });
  }, 120_000);

  it('rollback returns to v0; unknown ids are 404; nothing left to roll back is 409', async () => {
    expect((await api('/api/versions/rollback', { method: 'POST' })).json).toEqual({ active: 'v0' });
    expect((await api('/api/health')).json.activeVersion).toBe('v0');
    expect((await api('/api/versions/v99/activate', { method: 'POST' })).status).toBe(404);
    expect((await api('/api/versions/rollback', { method: 'POST' })).status).toBe(409);
  });
});
