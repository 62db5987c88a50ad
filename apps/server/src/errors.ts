/**
 * HTTP errors of the server, and the mapping of any thrown error to a status code. Every error reply
 * is JSON `{ error: { name, code, message } }`: the error class's name, its stable code, the message.
 */
import { errorKind, HTTP_STATUS_BY_KIND, isSamtuneError, SamtuneError, type ErrorKind } from '@samtune/errors';

/** An error with an HTTP status; the message says which field or path is wrong and why. */
export class HttpError extends SamtuneError {
  readonly code: string = 'http';
  readonly kind: ErrorKind = 'input';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** 400: the body is not valid JSON, or not a JSON object. */
export class InvalidJsonError extends HttpError {
  override readonly code: string = 'invalid-json';
  constructor(message: string) {
    super(400, message);
  }
}

/** 400: a JSON body with a `__proto__` or `constructor.prototype` key (prototype poisoning). */
export class ForbiddenKeyError extends HttpError {
  override readonly code: string = 'forbidden-key';
  constructor(message: string) {
    super(400, message);
  }
}

/** 400: a field of the request is missing, has the wrong type or is out of range. */
export class InvalidFieldError extends HttpError {
  override readonly code: string = 'invalid-field';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(400, `${field}: ${message}`);
  }
}

/** 400: a request target that is not origin-form (`GET http://host/path`, `*`, `//host/path`). */
export class InvalidTargetError extends HttpError {
  override readonly code: string = 'invalid-target';
  constructor(message: string) {
    super(400, message);
  }
}

/** 404: `POST /api/predict` names an embedding id that is not (or no longer) in the cache. */
export class UnknownEmbeddingError extends HttpError {
  override readonly code: string = 'unknown-embedding';
  override readonly kind: ErrorKind = 'not-found';
  constructor(message: string) {
    super(404, message);
  }
}

/** 404: no route for this path, or an image name that is not under `--images`. */
export class NotFoundError extends HttpError {
  override readonly code: string = 'not-found';
  override readonly kind: ErrorKind = 'not-found';
  constructor(message: string) {
    super(404, message);
  }
}

/** 405: the path exists but not with this method. */
export class MethodNotAllowedError extends HttpError {
  override readonly code: string = 'method-not-allowed';
  constructor(
    readonly allowed: readonly string[],
    message: string,
  ) {
    super(405, message);
  }
}

/** 413: the request body is larger than the server's limit. */
export class PayloadTooLargeError extends HttpError {
  override readonly code: string = 'payload-too-large';
  constructor(message: string) {
    super(413, message);
  }
}

/** 415: a body of a content type the route does not take. */
export class UnsupportedMediaTypeError extends HttpError {
  override readonly code: string = 'unsupported-media-type';
  constructor(message: string) {
    super(415, message);
  }
}

/** 503: too many request bodies in flight (their bytes would pass the server's memory budget); retry later. */
export class ServerBusyError extends HttpError {
  override readonly code: string = 'busy';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(503, message);
  }
}

/** 507: the disk (or the quota, or the file size limit) is full; nothing partial was kept. */
export class InsufficientStorageError extends HttpError {
  override readonly code: string = 'no-space';
  override readonly kind: ErrorKind = 'internal';
  constructor(message: string) {
    super(507, message);
  }
}

/** Error codes of a full disk (`ENOSPC`), quota (`EDQUOT`) or file size limit (`EFBIG`). */
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** A full-disk errno error as an `InsufficientStorageError`; anything else as it is. */
export function namedFsError(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException;
  if (!(err instanceof Error) || typeof e.code !== 'string' || !NO_SPACE.has(e.code)) return err;
  const where = [e.syscall, e.path].filter(Boolean).join(' ');
  return new InsufficientStorageError(
    `storage: ${where || 'a write'} failed with ${e.code} (no space left on the device, or over a quota or file size limit); nothing partial was kept, free space and retry`,
  );
}

/** The server cannot start as configured (a flag and the model directory disagree); the message says which. */
export class ServerConfigError extends SamtuneError {
  readonly code: string = 'server-config';
  readonly kind: ErrorKind = 'input';
}

/** 401: `--token` is set and the request has no `Authorization: Bearer <token>` or a wrong one. */
export class UnauthorizedError extends HttpError {
  override readonly code: string = 'unauthorized';
  constructor(message: string) {
    super(401, message);
  }
}

/** 403: a cross-site request (an `Origin` that is not the server's own). */
export class ForbiddenOriginError extends HttpError {
  override readonly code: string = 'forbidden-origin';
  constructor(message: string) {
    super(403, message);
  }
}

/** 421: a `Host` header the server was not bound to (DNS rebinding). */
export class MisdirectedRequestError extends HttpError {
  override readonly code: string = 'misdirected-request';
  constructor(message: string) {
    super(421, message);
  }
}

/**
 * The status and JSON body for any thrown value. An `HttpError` has its own status; every other
 * samtune error is mapped by its `kind` (input 400, not-found 404, unsupported 422, conflict 409),
 * and anything else is a 500.
 */
export function errorReply(err: unknown): {
  status: number;
  body: { error: { name: string; code: string; message: string } };
} {
  err = namedFsError(err);
  const e = err instanceof Error ? err : new Error(String(err));
  const code = isSamtuneError(e) ? e.code : 'internal';
  const status = err instanceof HttpError ? err.status : HTTP_STATUS_BY_KIND[errorKind(err)];
  return { status, body: { error: { name: e.name, code, message: e.message } } };
}

/**
 * An error re-created from its `errorReply` (the model worker's errors cross the thread boundary as
 * `{ status, name, code, message }`), or from a framework error that carries a 4xx `statusCode`.
 */
export class RemoteError extends HttpError {
  override readonly code: string;
  override readonly name: string;
  constructor(status: number, name: string, code: string, message: string) {
    super(status, message);
    this.name = name;
    this.code = code;
  }
}

/** Longest echo of a client's value in a message. */
const MAX_ECHO = 80;

/** A client value for a message: JSON, cut to 80 characters; a long string is described, never echoed. */
export function show(v: unknown): string {
  if (typeof v === 'string' && v.length > MAX_ECHO) return `a string of ${v.length} characters`;
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > MAX_ECHO ? `${s.slice(0, MAX_ECHO - 3)}...` : s;
}
