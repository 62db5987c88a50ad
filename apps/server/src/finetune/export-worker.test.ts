/**
 * Exporting a version runs in its own worker thread (`export-worker.ts`), so the HTTP thread keeps
 * answering while the graphs are recorded and verified (10-45 s): `/api/health`, asked one request
 * after another (at most 400) while an ONNX export of v1 (a decoder-only checkpoint, as a run writes)
 * runs, is answered throughout, and the export's folder is written. (On the HTTP thread, measured
 * before the change, a health request sent during the export had its connection closed unanswered.)
 * A version whose checkpoint cannot be loaded fails with the worker's error, named; unknown versions
 * and formats are refused.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSamCheckpoint, MASK_DECODER_PREFIX, writeFineTunedSafetensors, type WeightMap } from '@samtune/sam-model';
import { startServer, type SamServer } from '../server.js';
import { makeBoxDomain } from '../test-utils/box-domain.js';
import { referencePath } from '../test-utils/fixtures.js';

let dir: string;
let srv: SamServer;

const post = async (path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
  const res = await fetch(`${srv.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

/** Registers a version with a decoder-only checkpoint (the base's decoder), or bytes that are none. */
async function addVersion(bytes?: string): Promise<string> {
  const store = srv.versions?.store;
  if (!store) throw new Error('expected a version store');
  const v = await store.create(0);
  const file = store.checkpoint(v.id) as string;
  if (bytes !== undefined) await writeFile(file, bytes);
  else {
    const base = await loadSamCheckpoint(referencePath('tinyvit.pth'));
    const decoder: WeightMap = new Map([...base.weights].filter(([k]) => k.startsWith(MASK_DECODER_PREFIX)));
    writeFineTunedSafetensors(file, decoder, base.config, { path: base.path, sha256: base.sha256 });
  }
  await store.finish(v.id, { state: 'candidate', decoderSha256: 'a'.repeat(64), reason: 'test' });
  return v.id;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samtune-export-worker-'));
  await makeBoxDomain(join(dir, 'images'), { count: 1, perImage: 1 });
  srv = await startServer({
    model: { checkpoint: referencePath('tinyvit.pth') },
    imagesDir: join(dir, 'images'),
    port: 0,
  });
}, 120_000);

afterAll(async () => {
  await srv?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('version export in a worker thread', () => {
  it('/api/health answers while an export runs', async () => {
    const id = await addVersion();
    let done = false;
    const exported = post(`/api/versions/${id}/export`, { format: 'onnx' }).finally(() => {
      done = true;
    });
    let answered = 0;
    let longest = 0;
    for (let i = 0; i < 400 && !done; i++) {
      const t0 = performance.now();
      const h = await fetch(`${srv.url}/api/health`);
      expect(h.status).toBe(200);
      await h.arrayBuffer();
      longest = Math.max(longest, performance.now() - t0);
      if (!done) answered++;
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = await exported;
    console.log(`health answered ${answered} times during the export; longest answer ${longest.toFixed(0)} ms`);
    expect(r.status).toBe(200);
    const path = r.json.path as string;
    expect(path).toBe(join(srv.versions?.dataDir ?? '', 'exports', `${id}-onnx`));
    const model = JSON.parse(await readFile(join(path, 'model.json'), 'utf8')) as { checkpoint: { sha256: string } };
    expect(model.checkpoint.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(answered).toBeGreaterThanOrEqual(20);
  }, 600_000);

  it("a checkpoint that cannot be loaded fails with the worker's error; unknown versions and formats are refused", async () => {
    const id = await addVersion('not a safetensors file');
    const r = await post(`/api/versions/${id}/export`, { format: 'transformers.js' });
    expect(r).toMatchObject({
      status: 400,
      json: { error: { name: 'CheckpointFormatError', code: 'checkpoint-format' } },
    });
    expect((r.json.error as { message: string }).message).toContain(`runs/${id}/best.safetensors`);
    expect((await post('/api/versions/v99/export', { format: 'onnx' })).status).toBe(404);
    expect((await post(`/api/versions/${id}/export`, { format: 'tflite' })).status).toBe(400);
  });
});
