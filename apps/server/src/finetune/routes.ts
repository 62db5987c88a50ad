/**
 * The fine-tune and version routes (`/api/finetune*`, `/api/versions*`; the contract is in
 * apps/server/README.md). Training runs in its own worker (`Finetuner`); activation and rollback swap
 * the model worker's decoder between two requests; progress is polled (`/status`) or streamed as
 * server-sent events (`/events`: `progress` and `done` events, a heartbeat comment every 15 s).
 */
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { UnsupportedMediaTypeError } from '../errors.js';
import { replies } from '../schemas.js';
import { SerialQueue } from '../serial-queue.js';
import type { ModelWorker } from '../model-worker.js';
import { FinetuneUnsupportedError } from './errors.js';
import { exportInWorker, type ExportFormat } from './export-worker.js';
import type { Finetuner } from './finetuner.js';
import { HeldOutSchema, type VersionStore } from './versions.js';

const Id = Type.String({ pattern: '^v(0|[1-9][0-9]{0,5})$', maxLength: 7, description: 'version id (v0, v1, …)' });
const FinetuneBody = Type.Object(
  {
    epochs: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    lr: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
  },
  { additionalProperties: false },
);
const ExportBody = Type.Object(
  { format: Type.Union([Type.Literal('onnx'), Type.Literal('transformers.js')]) },
  { additionalProperties: false },
);
const Metrics = Type.Object({
  f1: Type.Union([Type.Number(), Type.Null()]),
  noc85: Type.Union([Type.Number(), Type.Null()]),
  noc90: Type.Union([Type.Number(), Type.Null()]),
  iouAt1: Type.Union([Type.Number(), Type.Null()]),
  iouAt3: Type.Union([Type.Number(), Type.Null()]),
  iouAt5: Type.Union([Type.Number(), Type.Null()]),
  prompts: Type.Integer(),
});
/** A model version as the API lists it. */
export const VersionInfoReply = Type.Object({
  id: Type.String(),
  state: Type.Union(['active', 'candidate', 'rejected', 'failed', 'cancelled', 'training'].map((s) => Type.Literal(s))),
  createdAt: Type.String(),
  parent: Type.Union([Type.String(), Type.Null()]),
  decoderSha256: Type.Optional(Type.String()),
  runDir: Type.Optional(Type.String({ description: 'run folder, relative to the data folder' })),
  metrics: Type.Optional(Metrics),
  baseline: Type.Optional(Metrics),
  heldOut: Type.Optional(HeldOutSchema),
  reason: Type.Optional(Type.String()),
});
const Progress = {
  version: Type.Optional(Type.String()),
  phase: Type.Optional(Type.String()),
  epoch: Type.Optional(Type.Integer()),
  epochs: Type.Optional(Type.Integer()),
  loss: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  etaSeconds: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
};
const StatusReply = Type.Object({ running: Type.Boolean(), ...Progress, last: Type.Optional(VersionInfoReply) });
const ActiveReply = Type.Object({ active: Type.String() });

export interface VersionRouteContext {
  readonly finetuner: Finetuner;
  readonly store: VersionStore;
  readonly worker: ModelWorker;
  /** Where exports are written (`<data>/exports`). */
  readonly exportDir: string;
}

async function requireJson(req: FastifyRequest): Promise<void> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type !== 'application/json')
    throw new UnsupportedMediaTypeError(`content-type: expected application/json, got '${type.slice(0, 100)}'`);
}

/** Registers the routes of the module comment. */
export function registerVersionRoutes(app: FastifyInstance, ctx: VersionRouteContext): void {
  const { finetuner, store, worker } = ctx;
  // activation, rollback and the end of a run change the active version one at a time
  const swaps = new SerialQueue();
  const serve = (id: string, rollback: boolean): Promise<{ active: string }> =>
    swaps.run(async () => {
      const target = rollback ? store.previous() : id;
      const file = store.servable(target);
      if (target !== store.active) {
        await worker.setDecoder(file, target);
        await (rollback ? store.rollback() : store.activate(target));
      }
      return { active: store.active };
    });
  const exports = new SerialQueue();

  app.post(
    '/api/finetune',
    {
      // the body is optional: none (no content-type) is `{}`; one that is sent must be JSON
      onRequest: async (req) => {
        if (req.headers['content-type'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0)
          await requireJson(req);
      },
      preValidation: async (req) => {
        req.body ??= {};
      },
      schema: {
        description:
          'Starts fine-tuning the decoder on the accepted labels (a new version, gated against the active one); the body is optional.',
        body: FinetuneBody,
        response: replies(Type.Object({ version: Type.String(), state: Type.Literal('training') }), 400, 409, 415, 422),
      },
    },
    async (req, reply) => reply.code(202).send(await finetuner.start(req.body as { epochs?: number; lr?: number })),
  );

  app.post(
    '/api/finetune/cancel',
    {
      schema: {
        description: 'Cancels the run in progress; the serving version stays.',
        response: replies(Type.Object({ cancelled: Type.Boolean() })),
      },
    },
    async () => finetuner.cancel(),
  );

  app.get('/api/finetune/status', { schema: { response: replies(StatusReply) } }, async () => finetuner.status());

  app.get(
    '/api/finetune/events',
    {
      schema: {
        description:
          'Server-sent events: `progress` {version, phase, epoch, epochs, loss, etaSeconds}, `done` (the version record); a comment every 15 s.',
      },
    },
    async (req, reply) => streamEvents(req, reply, finetuner),
  );

  app.get(
    '/api/versions',
    { schema: { response: replies(Type.Object({ active: Type.String(), versions: Type.Array(VersionInfoReply) })) } },
    async () => ({ active: store.active, versions: store.list() }),
  );

  app.post(
    '/api/versions/rollback',
    { schema: { description: 'Serves the previously active version again.', response: replies(ActiveReply, 409) } },
    async () => serve('', true),
  );

  app.post(
    '/api/versions/:id/activate',
    {
      schema: {
        description: 'Serves this version (hot swap between two requests; embeddings stay cached).',
        params: Type.Object({ id: Id }),
        response: replies(ActiveReply, 400, 404, 409),
      },
    },
    async (req) => serve((req.params as { id: string }).id, false),
  );

  app.post(
    '/api/versions/:id/export',
    {
      onRequest: requireJson,
      schema: {
        description:
          "Exports a version (ONNX: samtune's export folder; transformers.js: its SAM folder) into the data folder's exports/.",
        params: Type.Object({ id: Id }),
        body: ExportBody,
        response: replies(Type.Object({ path: Type.String() }), 400, 404, 409, 415, 422),
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const { format } = req.body as { format: ExportFormat };
      const checkpoint = store.servable(id) ?? worker.info.checkpoint.path;
      if (worker.info.engine !== 'checkpoint' || checkpoint.startsWith('seeded:'))
        throw new FinetuneUnsupportedError(
          `export: expected a server started with --checkpoint <file or name>, got ${worker.info.checkpoint.path}`,
        );
      const dir = join(ctx.exportDir, `${id}-${format === 'onnx' ? 'onnx' : 'transformers-js'}`);
      // in its own worker thread: the HTTP thread keeps answering during the 10-45 s it takes
      await exports.run(() => exportInWorker({ checkpoint, dir, format }));
      return { path: dir };
    },
  );
}

/** `text/event-stream` of the finetuner's events until the client leaves. */
function streamEvents(req: FastifyRequest, reply: FastifyReply, finetuner: Finetuner): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  const send = (event: string, data: unknown): void =>
    void res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const status = finetuner.status();
  if (status.running) {
    const { running: _r, last: _l, ...progress } = status;
    send('progress', progress);
  }
  const unsubscribe = finetuner.subscribe((e) => send(e.type, e.data));
  const heartbeat = setInterval(() => void res.write(': heartbeat\n\n'), 15_000);
  req.raw.socket.setTimeout(0);
  res.on('close', () => {
    clearInterval(heartbeat);
    unsubscribe();
  });
}
