/**
 * What the page needs to decode in the browser, over HTTP on 127.0.0.1: the embedding in float16 and
 * float32, the decoder ONNX of the serving weights in both forms (with the token, like every /api/ route), and
 * onnxruntime-web's files from the npm package, allow-listed.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHalfBits } from './float16.js';
import { ORT_FILES } from './page-model.js';
import { startServer, type SamServer } from './server.js';
import { referencePath } from './test-utils/fixtures.js';

const TOKEN = 'page-model-token-0123456789';
let dir: string;
let srv: SamServer;
let dogId: string;

const get = (path: string, auth = true): Promise<Response> =>
  fetch(`${srv.url}${path}`, auth ? { headers: { authorization: `Bearer ${TOKEN}` } } : {});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samtune-page-model-'));
  copyFileSync(referencePath('dog.jpg'), join(dir, 'dog.jpg'));
  srv = await startServer({
    model: { checkpoint: referencePath('tinyvit.pth') },
    imagesDir: dir,
    port: 0,
    token: TOKEN,
  });
  const res = await fetch(`${srv.url}/api/embed`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ image: 'dog.jpg' }),
  });
  dogId = ((await res.json()) as { id: string }).id;
});

afterAll(async () => {
  await srv?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('in-page decoding: what the server sends', () => {
  it('sends the embedding as float16 (half the bytes) within half precision of float32, with its sizes', async () => {
    const [h, f] = await Promise.all([get(`/api/embedding/${dogId}`), get(`/api/embedding/${dogId}?dtype=float32`)]);
    expect([h.status, f.status]).toEqual([200, 200]);
    expect(h.headers.get('x-samtune-dtype')).toBe('float16');
    expect(h.headers.get('x-samtune-shape')).toBe('1,256,64,64');
    expect(h.headers.get('x-samtune-original-size')).toBe('534,800');
    expect(h.headers.get('x-samtune-input-size')).toBe('684,1024');
    const half = new Uint16Array(await h.arrayBuffer());
    const full = new Float32Array(await f.arrayBuffer());
    expect([half.length, full.length]).toEqual([256 * 64 * 64, 256 * 64 * 64]);
    let worst = 0;
    for (let i = 0; i < full.length; i++) {
      const v = full[i] as number;
      worst = Math.max(worst, Math.abs(fromHalfBits(half[i] as number) - v) / Math.max(Math.abs(v), 2 ** -14));
    }
    expect(worst).toBeLessThanOrEqual(2 ** -11);
  });

  it('refuses an unknown embedding (404) and a bad dtype (400), and needs the token (401)', async () => {
    const unknown = await get('/api/embedding/0123456789abcdef');
    expect([unknown.status, ((await unknown.json()) as { error: { name: string } }).error.name]).toEqual([
      404,
      'UnknownEmbeddingError',
    ]);
    expect((await get(`/api/embedding/${dogId}?dtype=int8`)).status).toBe(400);
    expect((await get(`/api/embedding/${dogId}`, false)).status).toBe(401);
    expect((await get('/api/decoder.onnx', false)).status).toBe(401);
  });

  it('sends the decoder ONNX of the serving checkpoint with its SHA-256, the same bytes on each request', async () => {
    const [a, b] = await Promise.all([get('/api/decoder.onnx'), get('/api/decoder.onnx')]);
    const bytes = new Uint8Array(await a.arrayBuffer());
    expect(a.status).toBe(200);
    expect(a.headers.get('x-samtune-checkpoint-sha256')).toBe(srv.worker.info.checkpoint.sha256);
    expect(a.headers.get('x-samtune-decoder-sha256')).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(b.headers.get('x-samtune-decoder-sha256')).toBe(a.headers.get('x-samtune-decoder-sha256'));
    expect(bytes.length).toBeGreaterThan(1_000_000);
    expect(Buffer.from(await b.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
    expect(a.headers.get('x-samtune-parts')).toBe(`decoder:${bytes.length}`);
  });

  it('sends the split decoder as three ONNX models in one body, named with their byte lengths', async () => {
    const res = await get('/api/decoder-split');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(res.status).toBe(200);
    expect(res.headers.get('x-samtune-decoder-sha256')).toBe(createHash('sha256').update(bytes).digest('hex'));
    const parts = (res.headers.get('x-samtune-parts') ?? '').split(',').map((p) => p.split(':'));
    expect(parts.map(([name]) => name)).toEqual(['image_side', 'prompt', 'postprocess']);
    expect(parts.reduce((n, [, len]) => n + Number(len), 0)).toBe(bytes.length);
    expect((await get('/api/decoder-split', false)).status).toBe(401);
  });

  it("serves onnxruntime-web's files from the npm package without the token, and nothing else under /ort/", async () => {
    const dist = join(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'), '..');
    for (const f of ORT_FILES) {
      const res = await get(`/ort/${f}`, false);
      expect([f, res.status]).toEqual([f, 200]);
      expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(dist, f)))).toBe(true);
      expect(res.headers.get('content-type')).toMatch(f.endsWith('.wasm') ? /^application\/wasm/ : /javascript/);
    }
    // Anything else under /ort/ is not served: 401 (not on the token-free allow-list) or 404.
    for (const p of ['/ort/ort.all.min.mjs', '/ort/../package.json', '/ort/%2e%2e/package.json', '/ort/'])
      expect([p, [401, 404].includes((await get(p, false)).status)]).toEqual([p, true]);
    const page = await get('/', false);
    expect(page.headers.get('content-security-policy') ?? '').toContain("script-src 'self' 'wasm-unsafe-eval'");
    // cross-origin isolated (SharedArrayBuffer: onnxruntime-web's threads, `#threads=N`)
    expect([page.headers.get('cross-origin-opener-policy'), page.headers.get('cross-origin-embedder-policy')]).toEqual([
      'same-origin',
      'require-corp',
    ]);
  });
});
