/**
 * The HTTP server on fastify: the JSON API under `/api/` (routes in `routes.ts`), the labelling page
 * and its files from `public/` (@fastify/static), and the OpenAPI document generated from the route
 * schemas at `/api/openapi.json`. The model runs in a worker thread (`model-worker.ts`). Every error
 * is a JSON reply `{ error: { name, code, message } }`; a bad request never stops the process. See
 * README.md for the API and the security model.
 */
import { readdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { BodyBudget } from './body-budget.js';
import {
  errorReply,
  InvalidTargetError,
  MethodNotAllowedError,
  ServerBusyError,
  NotFoundError,
  RemoteError,
  ServerConfigError,
  show,
} from './errors.js';
import { parseJsonBody } from './json-body.js';
import { IMAGE_BODY_TYPES } from './upload-spool.js';
import { LABELS_FILE, LabelStore } from './labels-store.js';
import type { ModelSpec } from './model-engine.js';
import { ModelWorker } from './model-worker.js';
import { registerLabelsExport } from './labels-export.js';
import { ORT_FILES, ORT_PREFIX, registerPageModel } from './page-model.js';
import { registerRoutes } from './routes.js';
import { Finetuner, type FinetuneOptions } from './finetune/finetuner.js';
import { registerVersionRoutes } from './finetune/routes.js';
import { checkValSet } from './finetune/val-set.js';
import { VersionStore } from './finetune/versions.js';
import { QueueFullError } from './job-queue.js';
import { allowedHostNames, isLoopback, RequestGuard } from './security.js';

/** Options of `startServer`. */
export interface SamServerOptions {
  /** The model: `{ checkpoint }` (name or path), `{ exportDir, int8? }` (samtune export), or `{ seeded }`. */
  readonly model: ModelSpec;
  /** Folder of images to label; the labels file is written there. Without it only uploads work. */
  readonly imagesDir?: string;
  /** Port (0: any free port). Default 8080. */
  readonly port?: number;
  /** Address to bind. Default 127.0.0.1; anything but loopback needs `token`. */
  readonly host?: string;
  /** Bearer token every `/api/` request must carry (`Authorization: Bearer <token>`). */
  readonly token?: string;
  /** More names the `Host` header may carry (e.g. the machine's DNS name when binding 0.0.0.0). */
  readonly allowHosts?: readonly string[];
  /** Embeddings kept in memory (4 MiB each). Default 16. */
  readonly cacheSize?: number;
  /** Model jobs waiting or running before new ones get 503. Default 32. */
  readonly queueSize?: number;
  /** Largest image (`width * height`) decoded, checked from the header. Default 40 MP. */
  readonly maxPixels?: number;
  /** Largest JSON body in bytes. Default 32 MiB. */
  readonly maxJsonBytes?: number;
  /** Largest uploaded image in bytes. Default 64 MiB. */
  readonly maxImageBytes?: number;
  /**
   * Request-body bytes held in memory at once, over all requests (`BodyBudget`); a body that does not
   * fit gets 503 + Retry-After before it is read. Default one full-size image (`maxImageBytes`, 64 MiB):
   * a buffered body briefly costs twice its size, so the process stays within ~600 MiB (bench:hostile-server).
   */
  readonly maxBodyBytesInFlight?: number;
  /** Time to receive a request's headers / the whole request / idle keep-alive, in ms. Defaults 10 s / 60 s / 5 s. */
  readonly timeouts?: { readonly headersMs?: number; readonly requestMs?: number; readonly idleMs?: number };
  /** One line per request (`GET /api/health 200 3ms`); default: none. */
  readonly log?: (line: string) => void;
  /**
   * The server's data folder: model versions (`versions.json`, `runs/<id>/`), the fine-tune embedding
   * cache and exports. Default `<imagesDir>/.samtune/<checkpoint sha256[:12]>` (one per base checkpoint);
   * without both, no fine-tuning or versions.
   */
  readonly dataDir?: string;
  /** Fine-tuning defaults and `--auto-train` (`autoTrain`). */
  readonly finetune?: FinetuneOptions;
}

/** A running server. */
export interface SamServer {
  readonly server: Server;
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** The model worker and its queue (`worker.queue.pause()` holds jobs: maintenance and tests). */
  readonly worker: ModelWorker;
  readonly app: FastifyInstance;
  /** Every route (`method`, `url` pattern as registered): the page's files and the `/api/` routes. */
  readonly routes: readonly { readonly method: string; readonly url: string }[];
  /** The model versions and the fine-tuning runs (undefined without a data folder). */
  readonly versions:
    { readonly store: VersionStore; readonly finetuner: Finetuner; readonly dataDir: string } | undefined;
  /** Stops accepting connections, closes the open ones, cancels a fine-tune and stops the model worker. */
  close(): Promise<void>;
}

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/** The page's files and onnxruntime-web's, the only paths served without the token (exact raw paths). */
const PUBLIC_PATHS: ReadonlySet<string> = new Set([
  '/',
  ...readdirSync(PUBLIC_DIR).map((f) => `/${f}`),
  ...ORT_FILES.map((f) => `${ORT_PREFIX}${f}`),
]);

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  // cross-origin isolation: SharedArrayBuffer, so onnxruntime-web runs the page's decoder on threads
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

/** Byte limits of the bodies, for the 413 message. */
interface BodyLimits {
  readonly json: number;
  readonly image: number;
}

/** A framework error (body too large, bad media type, invalid JSON, schema) as the server's own error. */
function asHttpError(err: FastifyError, req: FastifyRequest, limits: BodyLimits): unknown {
  if (typeof err.statusCode !== 'number' || err.statusCode < 400 || err.statusCode >= 500) return err;
  if (err.validation) {
    const v = err.validation[0];
    const field =
      (v?.instancePath ?? '')
        .replace(/^\//, '')
        .replace(/\/(\d+)/g, '[$1]')
        .replace(/\//g, '.') || 'body';
    const got = (v as { data?: unknown } | undefined)?.data;
    const what =
      v?.keyword === 'required' ? `missing ${String(v.params.missingProperty)}` : (v?.message ?? err.message);
    return new RemoteError(400, 'InvalidFieldError', 'invalid-field', `${field}: ${what}, got ${show(got)}`);
  }
  const byStatus: Record<number, [string, string]> = {
    413: ['PayloadTooLargeError', 'payload-too-large'],
    415: ['UnsupportedMediaTypeError', 'unsupported-media-type'],
  };
  const json = err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY';
  if (!byStatus[err.statusCode] && !json)
    return new RemoteError(err.statusCode, 'BadRequestError', 'bad-request', `request: ${err.message}`);
  const [name, code] = byStatus[err.statusCode] ?? ['InvalidJsonError', 'invalid-json'];
  const type = req.headers['content-type'] ?? '';
  const limit = /^\s*(image\/|application\/octet-stream)/i.test(type) ? limits.image : limits.json;
  const declared = Number(req.headers['content-length'] ?? NaN);
  const message =
    err.statusCode === 413
      ? `body: expected at most ${limit} bytes, got ${Number.isFinite(declared) ? declared : `more than ${limit}`} bytes`
      : err.statusCode === 415
        ? `content-type: ${err.message}`
        : `body: expected a JSON object, got invalid JSON (${err.message})`;
  return new RemoteError(err.statusCode, name, code, message);
}

/** Starts the model worker and the server; resolves once both are ready. */
export async function startServer(opts: SamServerOptions): Promise<SamServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host) && !opts.token)
    throw new ServerConfigError(
      `startServer(host): binding to '${host}' (not loopback) requires a token (--token), got none`,
    );
  const maxJson = opts.maxJsonBytes ?? 32 * 2 ** 20;
  const maxImage = opts.maxImageBytes ?? 64 * 2 ** 20;
  const maxPixels = opts.maxPixels ?? 40_000_000;
  const cacheSize = opts.cacheSize ?? 16;
  if (opts.finetune?.val && opts.imagesDir === undefined)
    throw new ServerConfigError(
      'startServer(finetune.val): --val is the validation set of fine-tuning, which needs --images (the labels to train on), got no --images',
    );
  // a bad --val file stops the start here, before the model loads
  const valSet =
    opts.finetune?.val && opts.imagesDir !== undefined
      ? await checkValSet(opts.finetune.val, join(opts.imagesDir, LABELS_FILE))
      : undefined;
  const worker = await ModelWorker.start(opts.model, { cacheSize, maxPixels }, opts.queueSize ?? 32);
  const imagesDir = opts.imagesDir === undefined ? undefined : resolve(opts.imagesDir);
  const labels = imagesDir === undefined ? undefined : new LabelStore(imagesDir);
  // The default data folder is one per base checkpoint (`<images>/.samtune/<sha256[:12]>`): serving the
  // same images with another model starts its own versions instead of refusing the folder.
  const dataDir =
    opts.dataDir !== undefined
      ? resolve(opts.dataDir)
      : imagesDir !== undefined
        ? join(imagesDir, '.samtune', worker.info.checkpoint.sha256.slice(0, 12))
        : undefined;
  let versions: SamServer['versions'];
  if (dataDir !== undefined) {
    try {
      const store = await VersionStore.open(dataDir, worker.info.checkpoint.sha256, (line) => opts.log?.(line));
      // the active version survives a restart: its decoder is swapped in before the first request
      if (store.active !== 'v0') await worker.setDecoder(store.servable(store.active), store.active);
      const ctx = {
        store,
        worker,
        labels,
        imagesDir,
        dataDir,
        ...(valSet ? { valSet } : {}),
        ...(opts.log ? { log: opts.log } : {}),
      };
      versions = { store, finetuner: new Finetuner(ctx, opts.finetune), dataDir };
    } catch (err) {
      await worker.close();
      throw err;
    }
  }
  const t = opts.timeouts ?? {};
  /** Replies to a connection that never became a request (unparsable HTTP, timeouts) in the server's shape. */
  const clientErrorHandler = (err: Error & { code?: string }, socket: Socket): void => {
    if (!socket.writable) return void socket.destroy();
    const [status, reason, name, code] =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'RequestTimeoutError', 'request-timeout']
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'Request Header Fields Too Large', 'HeadersTooLargeError', 'headers-too-large']
          : [400, 'Bad Request', 'BadRequestError', 'bad-request'];
    const body = JSON.stringify({
      error: {
        name,
        code,
        message: `request: ${status === 408 ? 'not received in time' : `cannot be parsed (${err.code ?? err.message})`}`,
      },
    });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  };
  const app = Fastify({
    logger: false,
    clientErrorHandler,
    // a target the router cannot decode (`/api/%zz`) is refused before routing, in the server's shape
    frameworkErrors: (err, req, reply) => {
      const e =
        err.code === 'FST_ERR_BAD_URL'
          ? new InvalidTargetError(`request target: expected a valid percent-encoded path, got ${show(req.url)}`)
          : err;
      const { status, body } = errorReply(e);
      const r = reply as unknown as FastifyReply;
      void r.code(status).headers(SECURITY_HEADERS).type('application/json; charset=utf-8').send(body);
    },
    bodyLimit: maxJson,
    requestTimeout: t.requestMs ?? 60_000,
    keepAliveTimeout: t.idleMs ?? 5_000,
    // no socket inactivity timeout: a client waiting for a queued job sends nothing, legitimately;
    // slow senders are cut by headersTimeout / requestTimeout, idle keep-alives by keepAliveTimeout
    connectionTimeout: 0,
    http: {
      headersTimeout: t.headersMs ?? 10_000,
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor((t.headersMs ?? 10_000) / 4))),
    },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, verbose: true } },
  });
  // Replies are plain JSON.stringify: the response schemas document the API (OpenAPI) and the tests
  // validate real replies against them, but they never reshape a reply.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.removeContentTypeParser(['text/plain', 'application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  for (const type of IMAGE_BODY_TYPES)
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: maxImage }, (_req, body, done) => done(null, body));

  const guard = new RequestGuard({
    hostNames: allowedHostNames(host, opts.allowHosts),
    publicPaths: PUBLIC_PATHS,
    ...(opts.token ? { token: opts.token } : {}),
  });
  app.addHook('onRequest', async (req, reply) => {
    reply.headers(SECURITY_HEADERS);
    guard.check(req.raw.url ?? '', req.headers);
  });
  const budget = new BodyBudget(opts.maxBodyBytesInFlight ?? maxImage);
  app.addHook('preParsing', async (req, reply, payload) => {
    // bodies streamed to disk (uploads) hold no memory
    if ((req.routeOptions.config as { bodyOnDisk?: boolean } | undefined)?.bodyOnDisk) return payload;
    const declared = Number(req.headers['content-length'] ?? 0);
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (declared > 0 || chunked) {
      const image = /^\s*(image\/|application\/octet-stream)/i.test(req.headers['content-type'] ?? '');
      const limit = image ? maxImage : maxJson;
      budget.reserve(chunked ? limit : Math.min(declared, limit), reply.raw);
    }
    return payload;
  });
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url });
  });
  app.addHook('onResponse', async (req, reply) => {
    opts.log?.(`${req.method} ${req.url.slice(0, 200)} ${reply.statusCode} ${Math.round(reply.elapsedTime)}ms`);
  });
  app.setErrorHandler(async (raw: FastifyError, req, reply) => {
    const err = asHttpError(raw, req, { json: maxJson, image: maxImage });
    const { status, body } = errorReply(err);
    if (status >= 500) opts.log?.(`error on ${req.method} ${req.url.slice(0, 200)}: ${(err as Error).stack ?? err}`);
    if (err instanceof QueueFullError || err instanceof ServerBusyError)
      reply.header('retry-after', String(err.retryAfterSeconds));
    if (status === 413) reply.header('connection', 'close');
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler(async (req) => {
    const path = req.url.split('?')[0] ?? '';
    const allowed = ['GET', 'POST'].filter((m) => app.hasRoute({ method: m as 'GET', url: path }));
    if (allowed.length > 0 && path.startsWith('/api/'))
      throw new MethodNotAllowedError(allowed, `method: ${path} takes ${allowed.join(' or ')}, got ${req.method}`);
    throw new NotFoundError(`path: no route ${show(path)} (see GET / and /api/openapi.json)`);
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'samtune server',
        version: '0.1.0',
        description: 'Prompts in, labels out: see apps/server/README.md',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      ...(opts.token ? { security: [{ bearer: [] }] } : {}),
    },
  });
  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/',
    index: 'index.html',
    wildcard: false,
    cacheControl: false,
    setHeaders: (reply) => void reply.header('cache-control', 'no-store'),
  });
  registerRoutes(app, {
    worker,
    imagesDir,
    labels,
    maxJson,
    maxImage,
    maxPixels,
    ...(versions ? { onLabelsSaved: (total: number) => versions.finetuner.onLabelsSaved(total) } : {}),
  });
  if (versions)
    registerVersionRoutes(app, {
      finetuner: versions.finetuner,
      store: versions.store,
      worker,
      exportDir: join(versions.dataDir, 'exports'),
    });
  await registerPageModel(app, worker);
  registerLabelsExport(app, labels);
  await app.ready();
  await app.listen({ port: opts.port ?? 8080, host });
  const addr = app.server.address() as AddressInfo;
  guard.port = addr.port;
  const urlHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server: app.server,
    url: `http://${urlHost}:${addr.port}`,
    worker,
    app,
    routes,
    versions,
    close: async () => {
      app.server.closeAllConnections();
      await app.close();
      await versions?.finetuner.close();
      await worker.close();
    },
  };
}
