#!/usr/bin/env node
/** `samtune-server --checkpoint <name|path> [--port] [--host] [--images] [--cache]`: loads the model and serves. */
import { statSync } from 'node:fs';
import { initBackend, SamModel } from '@samtune/sam-model';
import { parseServerArgs, USAGE, UsageError } from './args.js';
import { startServer } from './server.js';

const err = (line: string): boolean => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseServerArgs(argv);
    if (args.images !== undefined && !statSync(args.images, { throwIfNoEntry: false })?.isDirectory()) {
      throw new UsageError(`--images: expected an existing folder, got '${args.images}'`);
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`samtune-server: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const backend = await initBackend();
  err(`tfjs backend: ${backend.name}`);
  let lastPct = -1;
  const model = await SamModel.load(args.checkpoint, {
    onProgress: (done, total) => {
      const pct = total ? Math.floor((100 * done) / total) : -1;
      if (pct !== lastPct && pct % 10 === 0) err(`download ${args.checkpoint}: ${pct}%`);
      lastPct = pct;
    },
  });
  err(
    `model: ${model.config.name} (${model.config.imageEncoder.kind}) from ${model.source.path} sha256 ${model.source.sha256.slice(0, 12)}`,
  );
  const srv = await startServer({
    model,
    ...(args.images === undefined ? {} : { imagesDir: args.images }),
    port: args.port,
    host: args.host,
    cacheSize: args.cache,
    log: (line) => err(`${new Date().toISOString()} ${line}`),
  });
  err(
    `samtune-server: listening on ${srv.url}/ ${args.images ? `(images: ${args.images})` : '(no --images: uploads only)'}`,
  );
  const stop = (signal: string): void => {
    err(`samtune-server: ${signal}, closing`);
    void srv
      .close()
      .then(() => model.release())
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  const x = e instanceof Error ? e : new Error(String(e));
  err(`samtune-server: ${x.name}: ${x.message}`);
  if (process.env.SAMTUNE_DEBUG) err(x.stack ?? '');
  process.exitCode = 1;
}
