/**
 * What the labelling page needs to decode clicks itself with onnxruntime-web (like the official SAM
 * demo): the image embedding once per image (`GET /api/embedding/:id`, float16 by default), the
 * decoder ONNX model of the serving weights (`GET /api/decoder.onnx`, official SAM decoder
 * signature, exported by the model worker with @samtune/export and kept per checkpoint SHA-256), and
 * onnxruntime-web's own files under `/ort/` (an allow-list served from the npm package; nothing is
 * fetched from the network). The `/api/` routes need the token like every other; `/ort/` files are
 * page assets.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import fastifyStatic from '@fastify/static';
import { Type } from 'typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ModelWorker } from './model-worker.js';
import type { DecoderFile, DecoderForm } from './page-decoder.js';
import { EmbeddingId, replies } from './schemas.js';

/** onnxruntime-web files the page loads (wasm backend, one thread): the ESM entry, its loader, the binary. */
export const ORT_FILES = ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'] as const;

/** URL prefix of onnxruntime-web's files. */
export const ORT_PREFIX = '/ort/';

const ortDist = (): string =>
  dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));

/** The decoder bytes and their SHA-256 (the page's "weights hash"), once per served version and form. */
interface ServedDecoder extends DecoderFile {
  /** The version exported (a swap between the request and the export gives the new one). */
  readonly version: string;
  readonly sha256: string;
}

const EmbeddingParams = Type.Object({ id: EmbeddingId });
const EmbeddingQuery = Type.Object({
  dtype: Type.Optional(Type.Union([Type.Literal('float16'), Type.Literal('float32')], { default: 'float16' })),
});

/** Registers `/ort/*` (static, allow-listed) and the two `/api/` routes of the in-page decoder. */
export async function registerPageModel(app: FastifyInstance, worker: ModelWorker): Promise<void> {
  await app.register(fastifyStatic, {
    root: ortDist(),
    prefix: ORT_PREFIX,
    decorateReply: false,
    wildcard: false,
    index: false,
    allowedPath: (path) => (ORT_FILES as readonly string[]).includes(path.replace(/^\//, '')),
    cacheControl: false,
    // the files change only with the package version: the browser may keep them
    setHeaders: (reply) => void reply.header('cache-control', 'public, max-age=86400'),
  });

  // one export per served version and form (a swap changes the key); a failed export is retried by the next request
  const decoders = new Map<DecoderForm, { readonly key: string; readonly file: Promise<ServedDecoder> }>();
  const currentDecoder = (form: DecoderForm): Promise<ServedDecoder> => {
    const key = `${worker.info.checkpoint.sha256}:${worker.version}`;
    let entry = decoders.get(form);
    if (entry?.key !== key) {
      const file = worker.decoderOnnx(form).then((d) => ({
        ...d,
        sha256: createHash('sha256').update(d.bytes).digest('hex'),
      }));
      const made = { key, file };
      entry = made;
      decoders.set(form, made);
      file.catch(() => {
        if (decoders.get(form) === made) decoders.delete(form);
      });
    }
    return entry.file;
  };
  const sendDecoder = async (form: DecoderForm, reply: FastifyReply): Promise<FastifyReply> => {
    const d = await currentDecoder(form);
    return reply
      .type('application/octet-stream')
      .header('cache-control', 'no-store')
      .header('x-samtune-decoder-sha256', d.sha256)
      .header('x-samtune-checkpoint-sha256', worker.info.checkpoint.sha256)
      .header('x-samtune-version', d.version)
      .header('x-samtune-parts', d.parts.map(([name, n]) => `${name}:${n}`).join(','))
      .send(Buffer.from(d.bytes.buffer, d.bytes.byteOffset, d.bytes.byteLength));
  };
  const decoderHeaders =
    'header x-samtune-decoder-sha256 is its hash, x-samtune-checkpoint-sha256 the base checkpoint, x-samtune-version the version, x-samtune-parts the models in the body (name:bytes, comma-separated)';

  app.get(
    '/api/decoder.onnx',
    {
      schema: {
        description: `The decoder the page runs (ONNX, official SAM decoder signature, multimask) for the active version; ${decoderHeaders}.`,
        response: replies({}, 503),
      },
    },
    (_req, reply) => sendDecoder('single', reply),
  );

  app.get(
    '/api/decoder-split',
    {
      schema: {
        description: `The decoder the page runs, split for speed (SAM checkpoints only; 400 otherwise): three ONNX models concatenated, image_side (once per embedding), prompt (once per click: low-res masks of all tokens, IoU) and postprocess (low-res masks to logits at the original size), for the active version; ${decoderHeaders}.`,
        response: replies({}, 400, 503),
      },
    },
    (_req, reply) => sendDecoder('split', reply),
  );

  app.get(
    '/api/embedding/:id',
    {
      schema: {
        description:
          'A cached image embedding (POST /api/embed first) as raw little-endian values: float16 (default) or float32. Headers: x-samtune-dtype, x-samtune-shape [1,256,64,64], x-samtune-original-size (H,W), x-samtune-input-size (h,w).',
        params: EmbeddingParams,
        querystring: EmbeddingQuery,
        response: replies({}, 400, 404, 503),
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      const dtype = (req.query as { dtype?: 'float16' | 'float32' }).dtype ?? 'float16';
      const e = await worker.embedding(id, dtype);
      return reply
        .type('application/octet-stream')
        .header('cache-control', 'no-store')
        .header('x-samtune-dtype', e.dtype)
        .header('x-samtune-shape', e.shape.join(','))
        .header('x-samtune-original-size', e.originalSize.join(','))
        .header('x-samtune-input-size', e.inputSize.join(','))
        .send(Buffer.from(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength));
    },
  );
}
