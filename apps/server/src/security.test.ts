/**
 * Every limit and refusal of the server, on 127.0.0.1 with a token, small limits and short timeouts:
 * 413 (pixel bombs, bodies), 415 (content types, SVG), 421 (Host), 403 (Origin), 401 (token),
 * 503 + Retry-After (full queue), dropped work for gone clients, 404 for path escapes, slow clients
 * cut off, long ids never echoed.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type SamServer } from './server.js';
import { bombPng, solidPng, svgBomb } from './test-utils/images.js';
import { referencePath } from './test-utils/fixtures.js';
import { jsonBody, rawRequest, until, type RawReply } from './test-utils/http.js';

const TOKEN = 'test-token-0123456789abcdef';
let root: string;
let dir: string;
let srv: SamServer;
let port: number;

type Raw = RawReply;

/** One request with full control of the headers (Host included); `auth: false` leaves out the token. */
const raw = (
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Uint8Array; auth?: boolean; signal?: AbortSignal } = {},
): Promise<Raw> => {
  const { auth, ...rest } = opts;
  return rawRequest(port, method, path, { ...rest, ...(auth === false ? {} : { token: TOKEN }) });
};
const json = jsonBody;
const health = async (): Promise<Raw['body'] & { queue: Record<string, number> }> =>
  (await raw('GET', '/api/health')).body as Raw['body'] & { queue: Record<string, number> };
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'samtune-server-sec-'));
  dir = join(root, 'images');
  mkdirSync(dir);
  writeFileSync(join(dir, 'ok.png'), await solidPng(40, 30));
  writeFileSync(join(dir, 'bomb.png'), await bombPng(16000, 16000));
  writeFileSync(join(root, 'outside.png'), await solidPng(8, 8));
  symlinkSync('/etc/hostname', join(dir, 'evil.jpg'));
  symlinkSync(join(root, 'outside.png'), join(dir, 'outside.png'));
  symlinkSync(join(dir, 'ok.png'), join(dir, 'inside-link.png'));
  srv = await startServer({
    model: { checkpoint: referencePath('tinyvit.pth') },
    imagesDir: dir,
    port: 0,
    host: '127.0.0.1',
    token: TOKEN,
    queueSize: 2,
    maxPixels: 1_000_000,
    maxJsonBytes: 1 << 20,
    maxImageBytes: 1 << 20,
    timeouts: { headersMs: 500, requestMs: 2000, idleMs: 300 },
  });
  port = Number(new URL(srv.url).port);
});

afterAll(async () => {
  await srv?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('request checks', () => {
  it('401 without the bearer token on /api/, while the page itself needs none', async () => {
    const none = await raw('GET', '/api/health', { auth: false });
    expect([none.status, none.body.error?.name, none.body.error?.message]).toEqual([
      401,
      'UnauthorizedError',
      "authorization: expected 'Bearer <token>' with the server's --token, got none",
    ]);
    const wrong = await raw('GET', '/api/images', { auth: false, headers: { authorization: 'Bearer nope' } });
    expect([wrong.status, wrong.body.error?.message]).toEqual([
      401,
      "authorization: expected 'Bearer <token>' with the server's --token, got a different value",
    ]);
    expect((await raw('GET', '/', { auth: false })).status).toBe(200);
    expect((await raw('GET', '/api/health')).status).toBe(200);
  });

  it('421 for a Host the server is not bound to (DNS rebinding), 403 for a foreign Origin', async () => {
    const rebound = await raw('GET', '/api/health', { headers: { host: `evil.example:${port}` } });
    expect([rebound.status, rebound.body.error?.name]).toEqual([421, 'MisdirectedRequestError']);
    expect(rebound.body.error?.message).toMatch(
      /^host: expected one of 127\.0\.0\.1:\d+, localhost:\d+, .* got "evil\.example:\d+"$/,
    );
    expect((await raw('GET', '/api/health', { headers: { host: `localhost:${port}` } })).status).toBe(200);
    const body = json({ image: 'ok.png', annotations: [] });
    const foreign = await raw('POST', '/api/labels', {
      ...body,
      headers: { ...body.headers, origin: 'http://evil.example' },
    });
    expect([foreign.status, foreign.body.error?.name, foreign.body.error?.message]).toEqual([
      403,
      'ForbiddenOriginError',
      `origin: expected no Origin or http://127.0.0.1:${port} (the page this server serves), got "http://evil.example"; cross-site requests are refused`,
    ]);
    const site = await raw('GET', '/api/images', { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(site.status).toBe(403);
    const own = await raw('POST', '/api/labels', {
      ...body,
      headers: { ...body.headers, origin: `http://127.0.0.1:${port}` },
    });
    expect(own.status).toBe(200);
  });

  it('415 for a JSON route without application/json (a Blob from another page), before reading the body', async () => {
    const cases: [Record<string, string>, string][] = [
      [{}, "content-type: expected application/json, got ''"],
      [{ 'content-type': 'text/plain' }, "content-type: expected application/json, got 'text/plain'"],
      [
        { 'content-type': 'application/x-www-form-urlencoded' },
        "content-type: expected application/json, got 'application/x-www-form-urlencoded'",
      ],
    ];
    for (const [headers, message] of cases) {
      const r = await raw('POST', '/api/labels', { headers, body: '{"image":"ok.png","annotations":[]}' });
      expect([r.status, r.body.error?.name, r.body.error?.message]).toEqual([
        415,
        'UnsupportedMediaTypeError',
        message,
      ]);
    }
  });
});

describe('limits', () => {
  it('413 for images whose header is over the pixel limit (upload, stored file, upload to --images), 415 for SVG', async () => {
    const bomb = await bombPng(16000, 16000);
    const up = await raw('POST', '/api/embed', { headers: { 'content-type': 'image/png' }, body: bomb });
    expect([up.status, up.body.error?.name, up.body.error?.message]).toEqual([
      413,
      'PayloadTooLargeError',
      'body: expected at most 1000000 pixels (1.0 MP, --max-megapixels), got 16000x16000 = 256.0 MP',
    ]);
    const byName = await raw('POST', '/api/embed', json({ image: 'bomb.png' }));
    expect([byName.status, byName.body.error?.message]).toEqual([
      413,
      'image: expected at most 1000000 pixels (1.0 MP, --max-megapixels), got 16000x16000 = 256.0 MP',
    ]);
    const store = await raw('POST', '/api/images?name=b.png', { headers: { 'content-type': 'image/png' }, body: bomb });
    expect(store.status).toBe(413);
    const svg = await raw('POST', '/api/embed', { headers: { 'content-type': 'image/svg+xml' }, body: svgBomb(16000) });
    expect([svg.status, svg.body.error?.name, svg.body.error?.message]).toEqual([
      415,
      'UnsupportedMediaTypeError',
      "body: expected a raster image (jpeg, png, webp, gif, tiff, heif, avif), got format 'svg'",
    ]);
    expect((await health()).queue).toMatchObject({ done: 0 }); // nothing reached the model
  });

  it('413 for bodies over the byte limits, without echoing them', async () => {
    const id = 'f'.repeat(2 << 20);
    const big = await raw('POST', '/api/predict', json({ id, box: [1, 2, 3, 4] }));
    expect([big.status, big.body.error?.name]).toEqual([413, 'PayloadTooLargeError']);
    expect(big.body.error?.message).toBe(`body: expected at most ${1 << 20} bytes, got ${id.length + 25} bytes`);
    const long = await raw('POST', '/api/predict', json({ id: 'f'.repeat(100_000), box: [1, 2, 3, 4] }));
    expect([long.status, long.body.error?.message]).toEqual([
      400,
      'id: must NOT have more than 16 characters, got a string of 100000 characters',
    ]);
    const path = await raw('GET', `/api/${'x'.repeat(5000)}`);
    expect([path.status, path.body.error?.message]).toEqual([
      404,
      'path: no route a string of 5005 characters (see GET / and /api/openapi.json)',
    ]);
  });

  it('cuts off a client that sends its headers one byte at a time (headersTimeout)', async () => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('utf8')));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
    const trickle = 'X-Slow: ' + 'a'.repeat(200);
    let sent = 0;
    let done = false;
    void closed.then(() => (done = true));
    while (!done && sent < trickle.length) {
      if (!socket.destroyed) socket.write(trickle[sent] as string);
      sent++;
      await new Promise((r) => setTimeout(r, 50));
    }
    await closed;
    expect(done).toBe(true);
    expect(sent).toBeLessThan(trickle.length); // closed long before the 10 s the trickle would take
    expect(received).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes an idle keep-alive connection (idle timeout)', async () => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('utf8')));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\n\r\n`);
    await closed; // the server ends it after its 300 ms idle timeout; the test would time out otherwise
    expect(received).toMatch(/^HTTP\/1\.1 200/);
  });
});

describe('the model queue', () => {
  it('answers 503 with Retry-After when full, health at once, and drops the work of a client that left', async () => {
    srv.worker.queue.pause();
    const before = (await health()).queue as Record<'done' | 'dropped' | 'refused', number>;
    const body = json({ id: 'feedfeedfeedfeed', box: [1, 2, 3, 4] });
    const ac = new AbortController();
    const first = raw('POST', '/api/predict', { ...body, signal: ac.signal }).catch((e: Error) => e);
    const second = raw('POST', '/api/predict', body);
    await until('two jobs queued', async () => (await health()).queue.waiting === 2);
    const refused = await raw('POST', '/api/predict', body);
    expect([refused.status, refused.body.error?.name]).toEqual([503, 'QueueFullError']);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.body.error?.message).toMatch(
      /^queue: the model queue is full \(2 jobs waiting or running\); retry after \d+ s$/,
    );
    // health, static files and errors do not wait for the model
    expect((await raw('GET', '/api/health')).status).toBe(200);
    expect((await raw('GET', '/app.js')).status).toBe(200);
    expect((await raw('GET', '/api/nothing')).status).toBe(404);

    ac.abort();
    expect(await first).toBeInstanceOf(Error);
    await until('the gone client dropped', async () => (await health()).queue.dropped === before.dropped + 1);
    srv.worker.queue.resume();
    const ran = await second;
    expect([ran.status, ran.body.error?.name]).toEqual([404, 'UnknownEmbeddingError']);
    expect((await health()).queue).toMatchObject({
      done: before.done + 1,
      dropped: before.dropped + 1,
      refused: before.refused + 1,
      waiting: 0,
    });
  });
});

describe('path escapes', () => {
  it('404 for names outside --images: ../, absolute, and symlinks that lead out; symlinks inside work', async () => {
    const escapes = [
      '/api/images/evil.jpg',
      '/api/images/outside.png',
      '/api/images/..%2Foutside.png',
      '/api/images/%2Fetc%2Fhostname.png',
    ];
    for (const p of escapes) {
      const r = await raw('GET', p);
      expect([p, r.status, r.body.error?.name]).toEqual([p, 404, 'NotFoundError']);
    }
    for (const image of ['evil.jpg', '../outside.png', '/etc/hostname.jpg', 'outside.png']) {
      const r = await raw('POST', '/api/embed', json({ image }));
      expect([image, r.status]).toEqual([image, 404]);
    }
    expect((await raw('GET', '/api/images/inside-link.png')).status).toBe(200);
    const listed = (await raw('GET', '/api/images')).body.images as { name: string }[];
    expect(listed.map((i) => i.name)).toEqual(['bomb.png', 'ok.png']);
  });

  it('stores an upload under a safe name inside --images', async () => {
    const png = await solidPng(12, 10);
    const r = await raw('POST', `/api/images?name=${encodeURIComponent('../../x<y>.jpeg')}`, {
      headers: { 'content-type': 'image/png' },
      body: png,
    });
    expect([r.status, r.body]).toEqual([200, { name: 'x_y_.png', width: 12, height: 10 }]);
    const again = await raw('POST', '/api/images?name=x_y_.png', {
      headers: { 'content-type': 'image/png' },
      body: png,
    });
    expect(again.body.name).toBe('x_y_.png'); // same bytes: the same file
  });
});
