/**
 * `POST /api/images` bodies go straight to disk: a content-type parser (registered for that route
 * only) streams the body into a hidden temporary file in `--images` with the byte limit counted as it
 * arrives, so an upload costs no memory however many are in flight; the route then checks the
 * image's header from the file and links it in under its name (`placeUpload`). The temporary file is
 * removed when the response closes (sent, failed, or the client gone).
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidFieldError, PayloadTooLargeError } from './errors.js';
import { uploadTempPath } from './images.js';

/** Content types of image bodies (the server's image parsers take the same). */
export const IMAGE_BODY_TYPES = [/^image\/[a-z0-9.+-]+$/, 'application/octet-stream'];

const tooLarge = (limit: number, got: string): PayloadTooLargeError =>
  new PayloadTooLargeError(`body: expected at most ${limit} bytes, got ${got} bytes`);

/**
 * Streams `payload` into a new temporary file in `root` (at most `limit` bytes).
 * @returns its path; nothing is left behind on failure.
 * @throws PayloadTooLargeError (413) past `limit`; the stream's or the disk's error otherwise.
 */
export async function spoolToFile(root: string, payload: Readable, limit: number): Promise<string> {
  const tmp = uploadTempPath(root);
  let received = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      done(received > limit ? tooLarge(limit, `more than ${limit}`) : null, chunk);
    },
  });
  try {
    await pipeline(payload, count, createWriteStream(tmp, { flags: 'wx' }));
    return tmp;
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Makes `app` (an encapsulated context holding only the upload route) parse image bodies into
 * temporary files in `root()` (undefined: no `--images`, refused before reading).
 */
export function spoolImageBodies(app: FastifyInstance, root: () => Promise<string | undefined>, limit: number): void {
  app.removeAllContentTypeParsers();
  const spooled = new WeakMap<FastifyRequest, string>();
  app.addHook('preParsing', async (req, reply, payload) => {
    reply.raw.once('close', () => {
      const tmp = spooled.get(req);
      if (tmp) void rm(tmp, { force: true });
    });
    return payload;
  });
  const parse = async (req: FastifyRequest, payload: Readable): Promise<string> => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > limit) throw tooLarge(limit, String(declared));
    const dir = await root();
    if (dir === undefined)
      throw new InvalidFieldError('name', 'the server was started without --images, so uploads cannot be stored');
    const tmp = await spoolToFile(dir, payload, limit);
    spooled.set(req, tmp);
    return tmp;
  };
  for (const type of IMAGE_BODY_TYPES) app.addContentTypeParser(type, parse);
}
