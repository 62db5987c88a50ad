/**
 * One way to start a `node:worker_threads` worker on a module of the calling package, from a build
 * or from sources: `spawnWorker(new URL('./x-entry.js', import.meta.url), data)`.
 *
 * - Built (`x-entry.js` exists): the worker runs it directly.
 * - From sources (only `x-entry.ts` exists: under tsx or vitest), Node does not apply the parent's
 *   loader to worker threads, so the worker first registers tsx's ESM API (resolved from here) and
 *   then imports the `.ts` file, with `--conditions=@samtune/source` so that the workspace packages
 *   resolve to their sources.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when a worker entry has neither a built `.js` nor a `.ts` that tsx can load. */
export class WorkerLoaderError extends SamtuneError {
  readonly code: string = 'worker-loader';
  readonly kind: ErrorKind = 'internal';
}

/** The file a worker on `entry` runs: the `.js` when built, else its `.ts` sibling (`typescript`). */
export function workerEntryFile(entry: URL | string): { readonly file: string; readonly typescript: boolean } {
  const js = entry instanceof URL ? fileURLToPath(entry) : entry;
  const ts = js.replace(/\.js$/, '.ts');
  if (existsSync(js)) return { file: js, typescript: false };
  if (ts !== js && existsSync(ts)) return { file: ts, typescript: true };
  throw new WorkerLoaderError(`spawnWorker(entry): neither ${js} nor ${ts} exists; build the package (pnpm build)`);
}

/** A worker thread on `entry` (the built `.js` module's URL or path) with `workerData` (see the module comment). */
export function spawnWorker(entry: URL | string, workerData: unknown): Worker {
  const { file, typescript } = workerEntryFile(entry);
  if (!typescript) return new Worker(file, { workerData });
  let api: string;
  try {
    api = pathToFileURL(
      createRequire(import.meta.url)
        .resolve('tsx/esm/api')
        .replace(/\.cjs$/, '.mjs'),
    ).href;
  } catch {
    throw new WorkerLoaderError(
      `spawnWorker(entry): the worker entry ${file} is TypeScript and tsx is not installed; build the package (pnpm build) or install tsx`,
    );
  }
  const code =
    `(async () => { const { register } = await import(${JSON.stringify(api)}); register(); ` +
    `await import(${JSON.stringify(pathToFileURL(file).href)}); })().catch((e) => { throw e; });`;
  const conditions = process.execArgv.some((a) => a.includes('@samtune/source'))
    ? []
    : ['--conditions=@samtune/source'];
  return new Worker(code, { eval: true, workerData, execArgv: [...process.execArgv, ...conditions] });
}
