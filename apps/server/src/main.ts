#!/usr/bin/env node
/** `samtune-server (--checkpoint <name|path> | --model <dir> [--int8]) [flags]`: loads the model in a worker and serves. */
import { statSync } from 'node:fs';
import { parseServerArgs, USAGE, UsageError } from './args.js';
import { startServer } from './server.js';

const err = (line: string): boolean => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseServerArgs(argv, process.env);
    for (const [flag, dir] of [
      ['images', args.images],
      ['model', args.model],
    ] as const) {
      if (dir !== undefined && !statSync(dir, { throwIfNoEntry: false })?.isDirectory())
        throw new UsageError(`--${flag}: expected an existing folder, got '${dir}'`);
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
  err(`samtune-server: loading ${args.checkpoint ?? args.model} in the model worker…`);
  const srv = await startServer({
    model:
      args.model !== undefined ? { exportDir: args.model, int8: args.int8 } : { checkpoint: args.checkpoint ?? '' },
    ...(args.images === undefined ? {} : { imagesDir: args.images }),
    ...(args.token === undefined ? {} : { token: args.token }),
    allowHosts: args.allowHosts,
    port: args.port,
    host: args.host,
    cacheSize: args.cache,
    queueSize: args.queue,
    maxPixels: args.maxMegapixels * 1_000_000,
    log: (line) => err(`${new Date().toISOString()} ${line}`),
  });
  const i = srv.worker.info;
  err(
    `model: ${i.model} (${i.engine}, ${i.backend}, encoder ${i.precision.encoder}, decoder ${i.precision.decoder}) from ${i.checkpoint.path} sha256 ${i.checkpoint.sha256.slice(0, 12)}`,
  );
  err(
    `samtune-server: listening on ${srv.url}/${args.token ? '#token=<your token>' : ''} ${args.images ? `(images: ${args.images})` : '(no --images: uploads only)'}`,
  );
  const stop = (signal: string): void => {
    err(`samtune-server: ${signal}, closing`);
    void srv.close().finally(() => process.exit(0));
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
