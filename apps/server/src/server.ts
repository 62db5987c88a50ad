/**
 * The HTTP server (`node:http`, no framework): the JSON API under `/api/` and the labelling page at
 * `/`. Every error is a JSON reply `{ error: { name, message } }`; a bad request never stops the
 * process. See README.md for the API.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { initBackend, type SamModel } from '@samtune/sam-model';
import { readImageInfo } from '@samtune/transforms';
import {
  errorReply,
  InvalidFieldError,
  MethodNotAllowedError,
  NotFoundError,
  UnsupportedMediaTypeError,
} from './errors.js';
import { parseJsonObject, readBody, sendBytes, sendError, sendJson } from './http-io.js';
import { imageContentType, listImages, resolveImage } from './images.js';
import { LabelStore } from './labels-store.js';
import { ModelService } from './model-service.js';
import { parseLabelsRequest, parsePredictRequest } from './validate.js';

/** Options of `startServer`. */
export interface SamServerOptions {
  /** The loaded model (`SamModel.load(nameOrPath)`); the server does not release it. */
  readonly model: SamModel;
  /** Folder of images to label; the labels file is written there. Without it only uploads work. */
  readonly imagesDir?: string;
  /** Port (0: any free port). Default 8080. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Embeddings kept in memory (4 MiB each). Default 16. */
  readonly cacheSize?: number;
  /** Largest JSON body in bytes. Default 32 MiB. */
  readonly maxJsonBytes?: number;
  /** Largest uploaded image in bytes. Default 64 MiB. */
  readonly maxImageBytes?: number;
  /** One line per request (`GET /api/health 200 3ms`); default: none. */
  readonly log?: (line: string) => void;
}

/** A running server. */
export interface SamServer {
  readonly server: Server;
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Stops accepting connections and closes the open ones. */
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

const PAGE_URL = new URL('./public/index.html', import.meta.url);

/** Starts the server and resolves once it listens. */
export async function startServer(opts: SamServerOptions): Promise<SamServer> {
  const backend = await initBackend();
  const page = readFileSync(PAGE_URL, 'utf8');
  const service = new ModelService(opts.model, opts.cacheSize ?? 16);
  const imagesDir = opts.imagesDir === undefined ? undefined : resolve(opts.imagesDir);
  const labels = imagesDir === undefined ? undefined : new LabelStore(imagesDir);
  const maxJson = opts.maxJsonBytes ?? 32 * 2 ** 20;
  const maxImage = opts.maxImageBytes ?? 64 * 2 ** 20;
  const { config, source } = opts.model;

  const json = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const type = (req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json')
      throw new UnsupportedMediaTypeError(`content-type: expected application/json, got '${type}'`);
    return parseJsonObject(await readBody(req, maxJson));
  };
  const needLabels = (): LabelStore => {
    if (!labels)
      throw new InvalidFieldError(
        'image',
        'the server was started without --images, so labels cannot be saved or read',
      );
    return labels;
  };

  const routes: Record<string, Partial<Record<string, Handler>>> = {
    '/': { GET: async (_req, res) => sendBytes(res, 'text/html; charset=utf-8', page) },
    '/api/health': {
      GET: async (_req, res) =>
        sendJson(res, 200, {
          ok: true,
          model: config.name,
          config,
          backend: backend.name,
          checkpoint: { path: source.path, sha256: source.sha256 },
          images: imagesDir ?? null,
          labelsFile: labels?.file ?? null,
          cache: { size: service.cache.size, capacity: service.cache.capacity },
          queue: service.queue.pending,
        }),
    },
    '/api/images': {
      GET: async (_req, res) => {
        if (!imagesDir || !labels) return sendJson(res, 200, { dir: null, images: [] });
        const [names, doc] = await Promise.all([listImages(imagesDir), labels.read()]);
        const counts = new Map<number, number>();
        for (const a of doc.annotations) counts.set(a.image_id, (counts.get(a.image_id) ?? 0) + 1);
        const byName = new Map(doc.images.map((im) => [im.file_name, counts.get(im.id) ?? 0]));
        sendJson(res, 200, { dir: imagesDir, images: names.map((name) => ({ name, labels: byName.get(name) ?? 0 })) });
      },
    },
    '/api/embed': {
      POST: async (req, res) => {
        const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
        if (type === 'application/json') {
          const body = await json(req);
          const path = await resolveImage(imagesDir, body.image, 'image');
          return sendJson(res, 200, await service.embedFile(path, body.image as string));
        }
        if (type.startsWith('image/') || type === 'application/octet-stream') {
          return sendJson(res, 200, await service.embedBytes(await readBody(req, maxImage)));
        }
        throw new UnsupportedMediaTypeError(
          `content-type: expected application/json {"image": name} or image bytes (image/*, application/octet-stream), got '${type}'`,
        );
      },
    },
    '/api/predict': {
      POST: async (req, res) => sendJson(res, 200, await service.predict(parsePredictRequest(await json(req)))),
    },
    '/api/labels': {
      GET: async (_req, res, url) => {
        const store = needLabels();
        const image = url.searchParams.get('image');
        sendJson(res, 200, image === null ? await store.read() : await store.readImage(image));
      },
      POST: async (req, res) => {
        const store = needLabels();
        const body = parseLabelsRequest(await json(req));
        const path = await resolveImage(imagesDir, body.image, 'image');
        const { width, height } = await readImageInfo(path);
        sendJson(res, 200, await store.save(body.image, width, height, body.annotations));
      },
    },
  };

  const serveImage: Handler = async (_req, res, url) => {
    const raw = url.pathname.slice('/api/images/'.length);
    let name: string;
    try {
      name = decodeURIComponent(raw);
    } catch {
      throw new InvalidFieldError('path', `expected a URL-encoded image name, got '${raw}'`);
    }
    const path = await resolveImage(imagesDir, name, 'path');
    sendBytes(res, imageContentType(path), await readFile(path));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      const route = url.pathname.startsWith('/api/images/')
        ? { GET: serveImage }
        : routes[url.pathname === '/index.html' ? '/' : url.pathname];
      if (!route) throw new NotFoundError(`path: no route ${url.pathname} (see GET / and /api/health)`);
      const handler = route[method];
      if (!handler) {
        const allowed = Object.keys(route);
        res.setHeader('allow', allowed.join(', '));
        throw new MethodNotAllowedError(
          allowed,
          `method: ${url.pathname} takes ${allowed.join(' or ')}, got ${method}`,
        );
      }
      await handler(req, res, url);
    } catch (err) {
      if (errorReply(err).status >= 500)
        opts.log?.(
          `error on ${method} ${url.pathname}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
      sendError(res, err);
    } finally {
      opts.log?.(`${method} ${url.pathname} ${res.statusCode} ${Date.now() - started}ms`);
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 8080, opts.host ?? '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((ok, fail) => {
        server.close((err) => (err ? fail(err) : ok()));
        server.closeAllConnections();
      }),
  };
}
