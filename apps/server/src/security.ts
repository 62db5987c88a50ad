/**
 * Request checks run before any route (a fastify `onRequest` hook):
 * - `Host` must name the address the server is bound to (or `localhost` for a loopback bind, or a
 *   name given with `--allow-host`): a DNS-rebinding page reaches the server under its own host
 *   name and gets 421;
 * - a request with an `Origin` other than the server's own is refused (403): another site's page
 *   cannot write labels or run the model through the user's browser;
 * - the request target must be origin-form (`/path?query`): an absolute-form target
 *   (`GET http://host/...`), `*` or a scheme-relative `//...` gets 400;
 * - with a token (`--token`, required when binding to anything but loopback), every request needs
 *   `Authorization: Bearer <token>` (401) except the page's own files, matched EXACTLY on the raw
 *   target (an allow-list, not a prefix test): a percent-encoded or otherwise aliased path that the
 *   router would still route needs the token like any other. The page and its files hold no data;
 *   the page reads the token from its URL fragment `#token=…`.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import {
  ForbiddenOriginError,
  InvalidTargetError,
  MisdirectedRequestError,
  show,
  UnauthorizedError,
} from './errors.js';

/** Whether `host` (an address or name to bind) is loopback only. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** The `host` part of a Host header value (`name:port`, `[v6]:port`), lower-cased. */
function hostName(value: string): { name: string; port: string } {
  const v = value.trim().toLowerCase();
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(v);
  return m ? { name: m[1] as string, port: m[2] ?? '' } : { name: '', port: '' };
}

const bracket = (a: string): string => (isIP(a) === 6 ? `[${a}]` : a);

/**
 * Host names the server answers to when bound to `bindHost`: that address; `localhost`, `127.0.0.1`
 * and `[::1]` for a loopback bind; every interface address for a wildcard bind (`0.0.0.0`, `::`);
 * plus `extra` (names from `--allow-host`).
 */
export function allowedHostNames(bindHost: string, extra: readonly string[] = []): Set<string> {
  const names = new Set<string>([bracket(bindHost.replace(/^\[|\]$/g, '').toLowerCase())]);
  if (isLoopback(bindHost)) for (const n of ['localhost', '127.0.0.1', '[::1]']) names.add(n);
  if (bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '[::]') {
    for (const list of Object.values(networkInterfaces()))
      for (const a of list ?? []) names.add(bracket(a.address.toLowerCase().split('%')[0] as string));
    names.add('localhost');
  }
  for (const e of extra) names.add(bracket(e.toLowerCase()));
  return names;
}

/** Options of `RequestGuard`. */
export interface GuardOptions {
  /** From `allowedHostNames`. */
  readonly hostNames: ReadonlySet<string>;
  /** The listening port (Host must carry it, or none for port 80); set `RequestGuard.port` once known. */
  readonly port?: number;
  /** Bearer token; undefined: no auth (loopback only). */
  readonly token?: string;
  /**
   * Paths served without the token (the page's static files, e.g. `/`, `/app.js`), compared exactly
   * with the raw request path (before `?`). Default: none, every request needs the token.
   */
  readonly publicPaths?: ReadonlySet<string>;
}

/**
 * The path of an origin-form request target (`/path?query`), undecoded.
 * @throws InvalidTargetError (400) for any other form: absolute (`http://host/path`), authority,
 *   asterisk (`*`), or a scheme-relative `//host/path`.
 */
export function originFormPath(target: string): string {
  if (!target.startsWith('/') || target.startsWith('//'))
    throw new InvalidTargetError(
      `request target: expected origin-form '/path?query', got ${show(target)} (absolute-form and '*' targets are refused)`,
    );
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export class RequestGuard {
  private readonly tokenDigest: Buffer | undefined;
  /** The listening port; until it is set (the server is not listening yet) every request is refused. */
  port: number | undefined;

  constructor(private readonly opts: GuardOptions) {
    this.tokenDigest = opts.token === undefined ? undefined : digest(opts.token);
    this.port = opts.port;
  }

  /**
   * Checks one request: its raw target `url` (as received, before any decoding) and its headers.
   * @throws InvalidTargetError (400), MisdirectedRequestError (421), ForbiddenOriginError (403),
   *   UnauthorizedError (401)
   */
  check(url: string, headers: Readonly<Record<string, string | string[] | undefined>>): void {
    const path = originFormPath(url);
    const host = typeof headers.host === 'string' ? headers.host : '';
    const { name, port } = hostName(host);
    const portOk = this.port !== undefined && (port === String(this.port) || (port === '' && this.port === 80));
    if (!this.opts.hostNames.has(name) || !portOk) {
      throw new MisdirectedRequestError(
        `host: expected one of ${[...this.opts.hostNames].map((h) => `${h}:${this.port ?? '?'}`).join(', ')} (the address the server is bound to; --allow-host adds names), got ${show(host)}`,
      );
    }
    const origin = headers.origin;
    if (typeof origin === 'string' && origin !== 'null' && origin.toLowerCase() !== `http://${host.toLowerCase()}`) {
      throw new ForbiddenOriginError(
        `origin: expected no Origin or http://${host} (the page this server serves), got ${show(origin)}; cross-site requests are refused`,
      );
    }
    if (typeof origin === 'string' && origin === 'null') {
      throw new ForbiddenOriginError('origin: expected no Origin or the server\'s own, got "null" (an opaque origin)');
    }
    if (headers['sec-fetch-site'] === 'cross-site') {
      throw new ForbiddenOriginError('sec-fetch-site: expected same-origin, none or no header, got "cross-site"');
    }
    if (this.tokenDigest && !this.opts.publicPaths?.has(path)) {
      const auth = typeof headers.authorization === 'string' ? headers.authorization : '';
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      if (!m || !timingSafeEqual(digest(m[1] as string), this.tokenDigest)) {
        throw new UnauthorizedError(
          `authorization: expected 'Bearer <token>' with the server's --token, got ${auth ? 'a different value' : 'none'}`,
        );
      }
    }
  }
}
