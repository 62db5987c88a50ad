/**
 * Hot swap (issue 21, "What to build" 3): activating a version while clicks are in flight. Every
 * click succeeds and its masks are exactly those of ONE version (v0's or v1's, each measured alone
 * first); clicks sent after the activation answered are v1's; the embedding stays cached; the page's
 * decoder follows the active version. v1 is a decoder-only checkpoint of the reference weights with
 * the decoder perturbed (written like a run's best.safetensors), registered in the version store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type SamServer } from '../server.js';
import { makeBoxDomain } from '../test-utils/box-domain.js';
import { addPerturbedVersion } from '../test-utils/perturbed-version.js';
import type { ApiReply } from '../test-utils/api-reply.js';
import { referencePath } from '../test-utils/fixtures.js';

let dir: string;
let srv: SamServer;
let id: string;

const post = async (path: string, body?: unknown): Promise<{ status: number; json: ApiReply }> => {
  const res = await fetch(`${srv.url}${path}`, {
    method: 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as ApiReply };
};

/** One click's masks as a comparable string. */
const click = async (k: number): Promise<string> => {
  const r = await post('/api/predict', { id, points: [[10 + (k % 5) * 8, 20 + (k % 3) * 10, 1]], multimask: false });
  expect(r.status).toBe(200);
  return JSON.stringify((r.json.masks ?? []).map((m: { counts: number[] }) => m.counts));
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samtune-hotswap-'));
  const images = join(dir, 'images');
  await makeBoxDomain(images, { count: 1, perImage: 1 });
  srv = await startServer({
    model: { checkpoint: referencePath('tinyvit.pth') },
    imagesDir: images,
    port: 0,
    queueSize: 256,
  });
  await addPerturbedVersion(srv, dir);
  id = (await post('/api/embed', { image: 'img00.png' })).json.id ?? '';
}, 120_000);

afterAll(async () => {
  await srv?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('hot swap between requests', () => {
  it('no click fails or mixes versions; later clicks are the new version; the embedding stays cached', async () => {
    const v0 = await Promise.all([0, 1, 2, 3, 4].map(click));
    expect((await post('/api/versions/v1/activate')).json).toEqual({ active: 'v1' });
    const v1 = await Promise.all([0, 1, 2, 3, 4].map(click));
    expect(v1).not.toEqual(v0);
    expect((await post('/api/versions/rollback')).json).toEqual({ active: 'v0' });
    expect(await Promise.all([0, 1, 2, 3, 4].map(click))).toEqual(v0);

    // 60 clicks in flight, the activation queued among them
    const during = Array.from({ length: 60 }, (_, k) => click(k).then((m) => ({ k, m })));
    await new Promise((r) => setTimeout(r, 5));
    const swapped = post('/api/versions/v1/activate');
    const results = await Promise.all(during);
    expect((await swapped).json).toEqual({ active: 'v1' });
    const versionOf = results.map(({ k, m }) => (m === v0[k % 5] ? 0 : m === v1[k % 5] ? 1 : -1));
    expect(versionOf).not.toContain(-1);
    const after = await Promise.all([0, 1, 2, 3, 4].map(click));
    expect(after).toEqual(v1);

    expect((await post('/api/embed', { image: 'img00.png' })).json.cached).toBe(true);
    const health = (await (await fetch(`${srv.url}/api/health`)).json()) as ApiReply;
    expect(health.activeVersion).toBe('v1');
    const dec = await fetch(`${srv.url}/api/decoder.onnx`);
    expect(dec.headers.get('x-samtune-version')).toBe('v1');
  }, 300_000);

  it('refuses to fine-tune on too few labels (422, saying how many), also when two requests come at once', async () => {
    const res = await Promise.all([0, 1].map(() => fetch(`${srv.url}/api/finetune`, { method: 'POST' })));
    const replies = (await Promise.all(res.map((r) => r.json()))) as ApiReply[];
    expect(res.map((r) => r.status).sort()).toEqual([409, 422]);
    expect(replies.map((r) => r.error?.code).sort()).toEqual(['FINETUNE_RUNNING', 'too-few-labels']);
    expect(replies.find((r) => r.error?.code === 'too-few-labels')?.error?.message).toBe(
      'finetune: expected at least 4 accepted instances on at least 2 images (some are held out to gate the new version), got 1 on 1 image(s)',
    );
  });

  it('refuses a version that cannot be served, with 409, and keeps the active one', async () => {
    const store = srv.versions?.store;
    const v2 = await store?.create(0);
    await store?.finish(v2?.id as string, { state: 'failed', reason: 'test' });
    const r = await post(`/api/versions/${v2?.id}/activate`);
    expect(r.status).toBe(409);
    expect(r.json.error?.code).toBe('version-not-servable');
    expect(store?.active).toBe('v1');
  });
});
