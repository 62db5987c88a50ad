/** Reading request bodies (with a size limit) and writing JSON replies on `node:http`. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidJsonError, PayloadTooLargeError, errorReply } from './errors.js';

/**
 * Reads the whole body. Past `limit` bytes it stops keeping data but drains the rest (so the client
 * can read the 413 reply), then rejects with `PayloadTooLargeError`; past 4x the limit it gives up on
 * the connection.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number.isFinite(declared) && declared > limit;
    const fail = (): PayloadTooLargeError =>
      new PayloadTooLargeError(
        `body: expected at most ${limit} bytes, got ${Number.isFinite(declared) ? declared : `more than ${limit}`} bytes`,
      );
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
      else if (size > 4 * limit) {
        reject(fail());
        req.destroy();
      }
    });
    req.on('end', () => (tooLarge ? reject(fail()) : resolve(Buffer.concat(chunks, size))));
    req.on('error', reject);
  });
}

/** Parses a body as a JSON object. @throws InvalidJsonError naming the problem. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) throw new InvalidJsonError('body: expected a JSON object, got an empty body');
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new InvalidJsonError(
      `body: expected a JSON object, got invalid JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidJsonError(
      `body: expected a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}

/** Sends `value` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/** Sends bytes with a content type. */
export function sendBytes(res: ServerResponse, contentType: string, bytes: Buffer | string): void {
  res.writeHead(200, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(bytes),
    'cache-control': 'no-store',
  });
  res.end(bytes);
}

/** Sends the JSON error reply for any thrown value (see `errorReply`); never throws. */
export function sendError(res: ServerResponse, err: unknown): void {
  const { status, body } = errorReply(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const extra: Record<string, string> = status === 413 ? { connection: 'close' } : {};
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...extra,
  });
  res.end(text);
}
