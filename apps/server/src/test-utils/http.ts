/** Test-only: one HTTP request with full control of the target and the headers (Host included). */
import { request } from 'node:http';

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { error?: { name: string; code: string; message: string } } & Record<string, unknown>;
}

export interface RawOptions {
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Bearer token sent as `Authorization`; none when undefined. */
  token?: string;
  signal?: AbortSignal;
}

/**
 * Sends `method target` to 127.0.0.1:`port` as is (an absolute-form or percent-encoded target goes
 * out byte for byte) with `Host: 127.0.0.1:<port>` unless `headers` says otherwise; the reply body is
 * parsed as JSON, or kept as `{ text }`.
 */
export function rawRequest(port: number, method: string, target: string, opts: RawOptions = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      host: `127.0.0.1:${port}`,
      ...(opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` }),
      ...opts.headers,
    };
    const req = request(
      { host: '127.0.0.1', port, method, path: target, headers, ...(opts.signal ? { signal: opts.signal } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: RawReply['body'];
          try {
            body = JSON.parse(text) as RawReply['body'];
          } catch {
            body = { text };
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Headers and body of a JSON request. */
export const jsonBody = (value: unknown): { headers: Record<string, string>; body: string } => {
  const body = JSON.stringify(value);
  return { headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }, body };
};

/** Polls `ok` every 25 ms until it holds (5 s at most). */
export async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`until(): ${what} did not happen`);
}

/** GET `path` (no `body`) or POST it as JSON, with the bearer `token`, to the server at `base`. */
export function apiFetch(base: string, token: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
