/**
 * The `/api/` routes. Model work (embed, predict) goes to the worker through its bounded queue with
 * an `AbortSignal` that fires when the client closes the connection, so abandoned work is dropped;
 * everything else (health, listing, labels, errors) is answered on the HTTP thread at once.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readImageInfo, type ImageInfo } from '@samtune/transforms';
import { InvalidFieldError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors.js';
import { imageContentType, listImages, placeUpload, resolveImage, resolveImageName } from './images.js';
import { spoolImageBodies } from './upload-spool.js';
import type { LabelStore } from './labels-store.js';
import type { ModelWorker } from './model-worker.js';
import {
  CocoDocumentReply,
  EmbedReply,
  HealthReply,
  ImagesReply,
  LabelsBody,
  LabelsQuery,
  PredictBody,
  PredictReply,
  replies,
  SaveReply,
  UploadQuery,
  UploadReply,
} from './schemas.js';
import { parseLabelsRequest, parsePredictRequest } from './validate.js';

/** Raster formats the server decodes (sharp's names); SVG and other vector or exotic inputs are refused. */
export const RASTER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'avif']);

export interface RouteContext {
  readonly worker: ModelWorker;
  readonly imagesDir: string | undefined;
  readonly labels: LabelStore | undefined;
  readonly maxJson: number;
  readonly maxImage: number;
  readonly maxPixels: number;
  /** Called after each labels save with the file's annotation count (`--auto-train`). */
  readonly onLabelsSaved?: (totalInstances: number) => void;
}

const mediaType = (req: FastifyRequest): string =>
  (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

/** `onRequest` hook of JSON routes: refuses other content types (415) before the body is read. */
async function requireJson(req: FastifyRequest): Promise<void> {
  const type = mediaType(req);
  if (type !== 'application/json')
    throw new UnsupportedMediaTypeError(`content-type: expected application/json, got '${type.slice(0, 100)}'`);
}

/** An `AbortSignal` that fires when the client closes the connection before its reply is sent. */
function clientGone(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) ac.abort();
  });
  return ac.signal;
}

/**
 * Checks an image's header before it is queued for decoding: a raster format and at most `maxPixels`.
 * @throws UnsupportedMediaTypeError (415) for SVG or unknown formats; PayloadTooLargeError (413)
 *   above the pixel limit; InvalidFieldError (400) for bytes that are no image.
 */
async function checkHeader(source: string | Uint8Array, maxPixels: number, field: string): Promise<ImageInfo> {
  const info = await readImageInfo(source).catch((err: unknown) => {
    throw new InvalidFieldError(field, `expected an image (JPEG, PNG, WebP, TIFF, …), got ${(err as Error).message}`);
  });
  if (!RASTER_FORMATS.has(info.format))
    throw new UnsupportedMediaTypeError(
      `${field}: expected a raster image (${[...RASTER_FORMATS].join(', ')}), got format '${info.format}'`,
    );
  const pixels = info.width * info.height;
  if (pixels > maxPixels)
    throw new PayloadTooLargeError(
      `${field}: expected at most ${maxPixels} pixels (${(maxPixels / 1e6).toFixed(1)} MP, --max-megapixels), got ${info.width}x${info.height} = ${(pixels / 1e6).toFixed(1)} MP`,
    );
  return info;
}

export function registerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { worker, imagesDir, labels } = ctx;
  const needLabels = (): LabelStore => {
    if (!labels)
      throw new InvalidFieldError(
        'image',
        'the server was started without --images, so labels cannot be saved or read',
      );
    return labels;
  };

  app.get('/api/health', { schema: { response: replies(HealthReply, 401, 403, 421) } }, async () => ({
    ok: true,
    ...worker.info,
    activeVersion: worker.version,
    images: imagesDir ?? null,
    labelsFile: labels?.file ?? null,
    cache: worker.cache,
    queue: worker.stats(),
    limits: { maxPixels: ctx.maxPixels, maxImageBytes: ctx.maxImage, maxJsonBytes: ctx.maxJson },
  }));

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/api/images', { schema: { response: replies(ImagesReply, 400) } }, async () => {
    if (!imagesDir || !labels) return { dir: null, images: [] };
    const [names, doc] = await Promise.all([listImages(imagesDir), labels.read()]);
    const counts = new Map<number, number>();
    for (const a of doc.annotations) counts.set(a.image_id, (counts.get(a.image_id) ?? 0) + 1);
    const byName = new Map(doc.images.map((im) => [im.file_name, counts.get(im.id) ?? 0]));
    return { dir: imagesDir, images: names.map((name) => ({ name, labels: byName.get(name) ?? 0 })) };
  });

  // the upload route in its own context: its bodies are streamed to a temporary file, never buffered
  void app.register(async (sub) => {
    spoolImageBodies(sub, async () => (imagesDir ? realpath(imagesDir) : undefined), ctx.maxImage);
    sub.post(
      '/api/images',
      {
        config: { bodyOnDisk: true },
        schema: {
          description: 'Uploads an image (bytes as image/* or application/octet-stream) into --images.',
          querystring: UploadQuery,
          response: replies(UploadReply, 400, 413, 415),
        },
      },
      async (req) => {
        const type = mediaType(req);
        if (!(type.startsWith('image/') || type === 'application/octet-stream'))
          throw new UnsupportedMediaTypeError(
            `content-type: expected image bytes (image/*, application/octet-stream), got '${type.slice(0, 100)}'`,
          );
        if (!imagesDir)
          throw new InvalidFieldError('name', 'the server was started without --images, so uploads cannot be stored');
        const tmp = req.body;
        if (typeof tmp !== 'string' || (await stat(tmp)).size === 0)
          throw new InvalidFieldError('body', 'expected image bytes, got an empty body');
        const info = await checkHeader(tmp, ctx.maxPixels, 'body');
        const name = await placeUpload(imagesDir, tmp, (req.query as { name?: string }).name ?? 'upload', info.format);
        return { name, width: info.width, height: info.height };
      },
    );
  });

  app.get('/api/images/*', { schema: { response: replies({}, 400, 404) } }, async (req, reply) => {
    const name = (req.params as { '*': string })['*'];
    const path = await resolveImage(imagesDir, name, 'path');
    return reply.type(imageContentType(path)).header('cache-control', 'no-store').send(createReadStream(path));
  });

  app.post(
    '/api/embed',
    {
      schema: {
        description:
          'Embeds an image: JSON {"image": name under --images}, or the image bytes (image/*, application/octet-stream).',
        response: replies(EmbedReply, 400, 404, 413, 415, 503),
      },
    },
    async (req, reply) => {
      const type = mediaType(req);
      if (type === 'application/json') {
        const body = req.body as { image?: unknown };
        if (typeof body !== 'object' || body === null || Array.isArray(body) || typeof body.image !== 'string')
          throw new InvalidFieldError('image', 'expected {"image": "<name under --images>"}');
        const path = await resolveImage(imagesDir, body.image, 'image');
        await checkHeader(path, ctx.maxPixels, 'image');
        return worker.embedFile(path, body.image, clientGone(reply));
      }
      if (type.startsWith('image/') || type === 'application/octet-stream') {
        const bytes = req.body as Buffer;
        if (bytes.length === 0) throw new InvalidFieldError('body', 'expected image bytes, got an empty body');
        await checkHeader(bytes, ctx.maxPixels, 'body');
        return worker.embedBytes(bytes, clientGone(reply));
      }
      throw new UnsupportedMediaTypeError(
        `content-type: expected application/json {"image": name} or image bytes (image/*, application/octet-stream), got '${type.slice(0, 100)}'`,
      );
    },
  );

  app.post(
    '/api/predict',
    { onRequest: requireJson, schema: { body: PredictBody, response: replies(PredictReply, 400, 404, 413, 415, 503) } },
    async (req, reply) => worker.predict(parsePredictRequest(req.body as Record<string, unknown>), clientGone(reply)),
  );

  app.get(
    '/api/labels',
    { schema: { querystring: LabelsQuery, response: replies(CocoDocumentReply, 400) } },
    async (req, reply) => {
      const store = needLabels();
      const image = (req.query as { image?: string }).image;
      if (image !== undefined) return store.readImage(image);
      // the whole file as stored (compressed RLE), streamed: its size never becomes one string
      const stream = await store.stream();
      if (!stream) return { images: [], annotations: [], categories: [] };
      return reply.type('application/json; charset=utf-8').send(stream);
    },
  );

  app.post(
    '/api/labels',
    { onRequest: requireJson, schema: { body: LabelsBody, response: replies(SaveReply, 400, 404, 413, 415) } },
    async (req) => {
      const store = needLabels();
      const body = parseLabelsRequest(req.body as Record<string, unknown>);
      const { path, name } = await resolveImageName(imagesDir, body.image, 'image');
      const { width, height } = await readImageInfo(path);
      const saved = await store.save(name, width, height, body.annotations);
      ctx.onLabelsSaved?.(saved.total);
      return saved;
    },
  );
}
