/**
 * `spawnWorker`: a `node:worker_threads` worker on a module entry, from a build (`.js`) or from
 * sources (`.ts`). Node applies neither tsx's `--import` loader nor vitest's transform to worker
 * threads, so a `.ts` entry is started by a small bootstrap that registers tsx's ESM API and then
 * imports the entry, with `--conditions=@samtune/source` so the workspace packages resolve to their
 * sources. tsx is found next to the loader in the parent's `execArgv`, else by module resolution.
 * The trainer's worker (`worker.ts`) and the server's model worker both start through this.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when the worker entry is TypeScript and tsx cannot be found. */
export class WorkerLoaderError extends SamtuneError {
  readonly code: string = 'worker-loader';
  readonly kind: ErrorKind = 'internal';
  override readonly name = 'WorkerLoaderError';
}

/** The URL of tsx's ESM API (`register`), or undefined when tsx is not installed. */
function tsxApi(): string | undefined {
  const argv = process.execArgv;
  const loader = argv.find((a, k) => argv[k - 1] === '--import' && /[\\/]tsx[\\/]/.test(a));
  if (loader) return new URL('./esm/api/index.mjs', loader.startsWith('file:') ? loader : pathToFileURL(loader)).href;
  for (const from of [import.meta.url, pathToFileURL(`${process.cwd()}/`).href]) {
    try {
      return pathToFileURL(
        createRequire(from)
          .resolve('tsx/esm/api')
          .replace(/\.cjs$/, '.mjs'),
      ).href;
    } catch {
      // not resolvable from here
    }
  }
  return undefined;
}

/**
 * A worker running `entry` (an absolute `.js` or `.ts` path) with `workerData`.
 * @throws WorkerLoaderError for a `.ts` entry when tsx is not installed
 */
export function spawnWorker(entry: string, workerData: unknown): Worker {
  if (!entry.endsWith('.ts')) return new Worker(entry, { workerData });
  const api = tsxApi();
  if (!api)
    throw new WorkerLoaderError(
      `spawnWorker(entry): the worker entry ${entry} is TypeScript and tsx is not installed (execArgv ${JSON.stringify(process.execArgv)}); build the package or install tsx`,
    );
  const code =
    `(async () => { const { register } = await import(${JSON.stringify(api)}); register(); ` +
    `await import(${JSON.stringify(pathToFileURL(entry).href)}); })().catch((e) => { throw e; });`;
  const conditions = process.execArgv.some((a) => a.includes('@samtune/source'))
    ? []
    : ['--conditions=@samtune/source'];
  return new Worker(code, { eval: true, workerData, execArgv: [...process.execArgv, ...conditions] });
}
