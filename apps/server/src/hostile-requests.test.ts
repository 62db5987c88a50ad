/**
 * Issue 22 on the HTTP side, against a real server with a token on 127.0.0.1:
 * - class 1: every route, sent without the token in percent-encoded, absolute-form and
 *   scheme-relative form, gets 401 or 400 and changes nothing (the guard decides on the raw target
 *   with an allow-list of the page's files, and refuses targets that are not origin-form);
 * - class 4: a deeply nested JSON body is a 400, request bodies in flight are bounded (503);
 * - class 6: fastify's own errors (undecodable URL, unparsable request) come in the server's
 *   `{error: {name, code, message}}` shape, a `__proto__` key is named as such.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELS_FILE } from './labels-store.js';
import { startServer, type SamServer } from './server.js';
import { referencePath } from './test-utils/fixtures.js';
import { jsonBody, rawRequest, until, type RawReply } from './test-utils/http.js';
import { solidPng } from './test-utils/images.js';

const TOKEN = 'hostile-token-0123456789abcdef';
let root: string;
let dir: string;
let srv: SamServer;
let port: number;
let png: Buffer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'samtune-server-hostile-'));
  dir = join(root, 'images');
  mkdirSync(dir);
  png = await solidPng(40, 30);
  writeFileSync(join(dir, 'ok.png'), png);
  srv = await startServer({
    model: { checkpoint: referencePath('tinyvit.pth') },
    imagesDir: dir,
    port: 0,
    token: TOKEN,
    maxImageBytes: 1 << 20,
    maxJsonBytes: 1 << 20,
    maxBodyBytesInFlight: 3 << 19, // 1.5 MiB: one full-size image body fits, two do not
  });
  port = Number(new URL(srv.url).port);
});

afterAll(async () => {
  await srv?.close();
  rmSync(root, { recursive: true, force: true });
});

/** A request that would succeed on `route` with the token (a real image name, a valid body). */
function requestFor(
  method: string,
  url: string,
): { path: string; headers?: Record<string, string>; body?: string | Buffer } {
  const path = url.replace('*', 'ok.png');
  if (method !== 'POST') return { path };
  if (path === '/api/images')
    return { path: `${path}?name=new.png`, headers: { 'content-type': 'image/png' }, body: png };
  const body =
    path === '/api/labels'
      ? { image: 'ok.png', annotations: [{ category: 'x', segmentation: { size: [30, 40], counts: [0, 1200] } }] }
      : path === '/api/embed'
        ? { image: 'ok.png' }
        : { id: '0123456789abcdef', box: [1, 2, 3, 4] };
  return { path, ...jsonBody(body) };
}

/** Aliases of `path` that fastify's router routes like `path` (percent-encoded letters, upper and lower hex). */
function encodedForms(path: string): string[] {
  const forms = new Set<string>();
  const [p, q] = path.split('?') as [string, string | undefined];
  const tail = q === undefined ? '' : `?${q}`;
  for (let i = 1; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (p[i] === '/') continue;
    const hex = c.toString(16);
    forms.add(`${p.slice(0, i)}%${hex}${p.slice(i + 1)}${tail}`);
    forms.add(`${p.slice(0, i)}%${hex.toUpperCase()}${p.slice(i + 1)}${tail}`);
  }
  return [...forms];
}

describe('class 1: the token cannot be bypassed', () => {
  it('knows every route: the page files and the /api/ routes', () => {
    const urls = new Set(srv.routes.map((r) => `${r.method} ${r.url}`));
    for (const r of [
      'GET /',
      'GET /app.js',
      'GET /api/health',
      'POST /api/images',
      'GET /api/images/*',
      'POST /api/labels',
    ])
      expect(urls.has(r), r).toBe(true);
  });

  it('every route in percent-encoded, absolute and scheme-relative form without the token gets 401 or 400', async () => {
    const seen: { target: string; status: number }[] = [];
    for (const { method, url } of srv.routes) {
      const { path, headers, body } = requestFor(method, url);
      // the exact path with the token works (the control: these requests are real ones; the event
      // stream never ends, so it has no control)
      if (method !== 'HEAD' && path !== '/api/finetune/events') {
        const ok = await rawRequest(port, method, path, {
          token: TOKEN,
          ...(headers ? { headers } : {}),
          ...(body ? { body } : {}),
        });
        expect([`${method} ${path}`, ok.status < 500]).toEqual([`${method} ${path}`, true]);
      }
      const encoded = encodedForms(path);
      const absolute = [
        `http://127.0.0.1:${port}${path}`,
        `HTTP://127.0.0.1:${port}${encoded[0] ?? path}`,
        `//127.0.0.1:${port}${path}`,
        `//${path.slice(1)}`,
      ];
      for (const target of [...encoded, ...absolute]) {
        const r = await rawRequest(port, method, target, {
          ...(headers ? { headers } : {}),
          ...(body ? { body } : {}),
        });
        seen.push({ target: `${method} ${target}`, status: r.status });
        if (method === 'HEAD') continue;
        const expected = absolute.includes(target) ? [400, 'InvalidTargetError'] : [401, 'UnauthorizedError'];
        expect([`${method} ${target}`, r.status, r.body.error?.name]).toEqual([`${method} ${target}`, ...expected]);
      }
    }
    expect(seen.length).toBeGreaterThan(100);
    expect(seen.filter((s) => s.status !== 401 && s.status !== 400)).toEqual([]);
  });

  it('changed nothing: no upload stored by the bypass attempts, the labels are the ones saved with the token', async () => {
    const files = readdirSync(dir).filter((f) => f !== LABELS_FILE && !f.endsWith('.lock') && f !== '.samtune');
    expect(files.sort()).toEqual(['new.png', 'ok.png']); // new.png: the control upload with the token
    const labels = await rawRequest(port, 'GET', '/api/labels', { token: TOKEN });
    expect((labels.body.annotations as unknown[]).length).toBe(1);
  });
});

describe('class 4: bodies', () => {
  it('a deeply nested JSON body is a 400 that says so, on every JSON route', async () => {
    const deep = `{"image":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    for (const path of ['/api/labels', '/api/predict', '/api/embed']) {
      const r = await rawRequest(port, 'POST', path, {
        token: TOKEN,
        headers: { 'content-type': 'application/json' },
        body: deep,
      });
      expect([path, r.status, r.body.error]).toEqual([
        path,
        400,
        {
          name: 'InvalidJsonError',
          code: 'invalid-json',
          message:
            'body: expected a JSON object, got invalid JSON (expected JSON nested at most 32 levels deep, got more than 32 at offset 40)',
        },
      ]);
    }
  });

  it('bodies in flight are bounded: a body that does not fit the budget gets 503 + Retry-After before it is read', async () => {
    /** A client that declares 1 MiB and sends 10 bytes, then waits. */
    const slow = async (path: string): Promise<Socket> => {
      const socket = connect(port, '127.0.0.1');
      await new Promise<void>((r) => socket.once('connect', () => r()));
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: image/png\r\nContent-Length: ${1 << 20}\r\n\r\n0123456789`,
      );
      return socket;
    };
    const temps = (): string[] => readdirSync(dir).filter((f) => f.startsWith('.upload-'));
    // an upload streams to a temporary file in --images and holds no memory budget
    const upload = await slow('/api/images?name=slow.png');
    await until('the upload spooled', async () => temps().length === 1);
    // an image body for /api/embed is buffered: it holds its 1 MiB of the 1.5 MiB budget
    const embed = await slow('/api/embed');
    const embedBody = (bytes: number): Promise<RawReply> =>
      rawRequest(port, 'POST', '/api/embed', {
        token: TOKEN,
        headers: { 'content-type': 'image/png' },
        body: Buffer.alloc(bytes, 1),
      });
    let busy: RawReply | undefined;
    for (let i = 0; i < 100 && busy?.status !== 503; i++) busy = await embedBody(600_000);
    expect([busy?.status, busy?.headers['retry-after'], busy?.body.error]).toEqual([
      503,
      '1',
      {
        name: 'ServerBusyError',
        code: 'busy',
        message: `body: expected at most ${3 << 19} bytes of request bodies in flight, got ${1 << 20} held and 600000 more; retry after 1 s`,
      },
    ]);
    expect((await embedBody(400_000)).status).toBe(400); // fits beside the 1 MiB (400 kB of 0x01 is no image)
    embed.destroy();
    let after: RawReply | undefined;
    for (let i = 0; i < 100 && after?.status !== 400; i++) after = await embedBody(600_000);
    expect(after?.status).toBe(400); // read again once the slow client is gone
    upload.destroy();
    await until('the abandoned upload removed', async () => temps().length === 0);
    expect(existsSync(join(dir, 'slow.png'))).toBe(false);
  });
});

describe("class 6: the framework's errors in the server's shape", () => {
  it("an undecodable path is a 400 InvalidTargetError, not fastify's own reply", async () => {
    const r = await rawRequest(port, 'GET', '/api/images/%zz.png', { token: TOKEN });
    expect([r.status, r.body]).toEqual([
      400,
      {
        error: {
          name: 'InvalidTargetError',
          code: 'invalid-target',
          message: 'request target: expected a valid percent-encoded path, got "/api/images/%zz.png"',
        },
      },
    ]);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  it('an unparsable request is a 400 BadRequestError in JSON', async () => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('utf8')));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x\r\n\r\n');
    await closed;
    expect(received.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4))).toEqual({
      error: {
        name: 'BadRequestError',
        code: 'bad-request',
        message: 'request: cannot be parsed (HPE_INVALID_CONTENT_LENGTH)',
      },
    });
  });

  it('a __proto__ or constructor.prototype key is named as such (400 ForbiddenKeyError), nothing saved', async () => {
    for (const text of [
      '{"image":"ok.png","annotations":[],"__proto__":{"polluted":1}}',
      '{"image":"ok.png","annotations":[{"constructor":{"prototype":{"polluted":1}}}]}',
    ]) {
      const r = await rawRequest(port, 'POST', '/api/labels', {
        token: TOKEN,
        headers: { 'content-type': 'application/json' },
        body: text,
      });
      expect([r.status, r.body.error]).toEqual([
        400,
        {
          name: 'ForbiddenKeyError',
          code: 'forbidden-key',
          message:
            'body: expected no "__proto__" or "constructor": {"prototype": …} key (they would change object prototypes), got one',
        },
      ]);
    }
    const bad = await rawRequest(port, 'POST', '/api/labels', {
      token: TOKEN,
      headers: { 'content-type': 'application/json' },
      body: '{"image":',
    });
    expect([bad.status, bad.body.error?.name, bad.body.error?.message]).toEqual([
      400,
      'InvalidJsonError',
      expect.stringMatching(/^body: expected a JSON object, got invalid JSON \(/),
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
