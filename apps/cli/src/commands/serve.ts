/**
 * `samtune serve`: the HTTP API and labelling page of @samtune/server (a thin app this command
 * composes): parses the flags, starts the server with the model in its worker
 * thread, and closes it on SIGINT/SIGTERM.
 */
import { Type } from 'typebox';
import { UsageError, type CliIO } from '../command.js';
import { defineCommand, Flag } from '../flags.js';

const opt = Type.Optional;
const FLAGS = Type.Object({
  checkpoint: opt(
    Flag.text("a published checkpoint name (tiny_vit, vit_b, …), a .pth, or a run's best.safetensors", {
      placeholder: '<name|path>',
    }),
  ),
  model: opt(Flag.folder('an export directory (samtune export: model.json + ONNX files), run on onnxruntime')),
  int8: Flag.bool("with --model: run the INT8 files that 'samtune optimize' wrote"),
  images: opt(Flag.folder('folder of images to label; labels are saved there as _annotations.coco.json')),
  port: Flag.int('port to listen on (0: any free port)', 0, { max: 65535, default: 8080 }),
  host: Flag.text('address to bind; anything but loopback requires --token', {
    placeholder: '<address>',
    default: '127.0.0.1',
  }),
  token: opt(
    Flag.text(
      'bearer token every /api/ request must carry (open the page as http://host:port/#token=<token>); SAMTUNE_SERVER_TOKEN sets it without showing it in the process list',
      { placeholder: '<secret>' },
    ),
  ),
  'allow-host': Flag.texts(
    "another name the Host header may carry (repeatable), e.g. the machine's DNS name",
    '<name>',
  ),
  cache: Flag.int('image embeddings kept in memory (4 MiB each; SAM 2.1: 16 MiB)', 1, { max: 4096, default: 16 }),
  queue: Flag.int('model jobs waiting or running before new requests get 503', 1, { max: 10_000, default: 32 }),
  'max-megapixels': Flag.int('largest image decoded, checked from its header before decoding', 1, {
    max: 1000,
    default: 40,
  }),
  'data-dir': opt(
    Flag.text(
      'folder of model versions, fine-tune runs, their embedding cache and exports (default <images>/.samtune)',
      {
        placeholder: '<dir>',
      },
    ),
  ),
  val: opt(
    Flag.text(
      "the gate's own validation set: a COCO labels .json (checked at start); fine-tuning then trains on every accepted label and compares the candidate with the serving version on this set instead of a seeded split",
      { placeholder: '<labels.json>' },
    ),
  ),
  'val-images': opt(Flag.folder("with --val: its image folder (default: the file's folder)")),
  'auto-train': Flag.int('fine-tune after this many new accepted instances (0: only on request)', 0, {
    max: 1_000_000,
    default: 0,
  }),
});

function closeOnSignals(io: CliIO, close: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      io.err(`samtune serve: ${signal}, closing`);
      void close().finally(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

export const serveCommand = defineCommand({
  path: ['serve'],
  summary: 'HTTP API and labelling page for a checkpoint or an export directory',
  synopsis: `usage: samtune serve (--checkpoint <name|path> | --model <export dir> [--int8]) [flags]

Open http://<host>:<port>/ for the labelling page; the API is under /api/ (GET /api/openapi.json).`,
  flags: FLAGS,
  async run(f, io) {
    if ((f.checkpoint === undefined) === (f.model === undefined))
      throw new UsageError(
        `--checkpoint / --model: expected exactly one (a checkpoint name or path, or an export directory), got ${f.checkpoint === undefined ? 'neither' : 'both'}`,
      );
    if (f.int8 && f.model === undefined) throw new UsageError('--int8: expected together with --model <export dir>');
    if (f['val-images'] !== undefined && f.val === undefined)
      throw new UsageError('--val-images: expected together with --val <labels.json>');
    const token = f.token ?? process.env.SAMTUNE_SERVER_TOKEN;
    if (token !== undefined && !/^[\x21-\x7e]{16,512}$/.test(token))
      throw new UsageError(
        `${f.token ? '--token' : 'SAMTUNE_SERVER_TOKEN'}: expected 16 to 512 printable characters without spaces, got ${token.length} characters`,
      );
    const { isLoopback, startServer } = await import('@samtune/server');
    if (!isLoopback(f.host) && token === undefined)
      throw new UsageError(
        `--host ${f.host}: binding to anything but loopback requires --token <secret> (or SAMTUNE_SERVER_TOKEN), got none`,
      );
    io.err(`samtune serve: loading ${f.checkpoint ?? f.model} in the model worker…`);
    const srv = await startServer({
      model: f.model !== undefined ? { exportDir: f.model, int8: f.int8 } : { checkpoint: f.checkpoint ?? '' },
      ...(f.images === undefined ? {} : { imagesDir: f.images }),
      ...(token === undefined ? {} : { token }),
      allowHosts: f['allow-host'],
      port: f.port,
      host: f.host,
      cacheSize: f.cache,
      queueSize: f.queue,
      maxPixels: f['max-megapixels'] * 1_000_000,
      ...(f['data-dir'] === undefined ? {} : { dataDir: f['data-dir'] }),
      finetune: {
        autoTrain: f['auto-train'],
        ...(f.val === undefined
          ? {}
          : { val: { labels: f.val, ...(f['val-images'] === undefined ? {} : { images: f['val-images'] }) } }),
      },
      log: (line) => io.err(`${new Date().toISOString()} ${line}`),
    });
    const i = srv.worker.info;
    io.err(
      `model: ${i.model} (${i.engine}, ${i.backend}, encoder ${i.precision.encoder}, decoder ${i.precision.decoder}) from ${i.checkpoint.path} sha256 ${i.checkpoint.sha256.slice(0, 12)}`,
    );
    io.err(
      `samtune serve: listening on ${srv.url}/${token ? '#token=<your token>' : ''} ${f.images ? `(images: ${f.images})` : '(no --images: uploads only)'}`,
    );
    await closeOnSignals(io, () => srv.close());
    return 0;
  },
});
