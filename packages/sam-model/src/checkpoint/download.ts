/**
 * Resolves a checkpoint argument to a local file: an existing path is used as is (offline); a
 * registry name is downloaded once into the cache with resume (HTTP Range), progress, size and
 * streamed SHA-256 checks, and an atomic rename. A failed attempt (network error, connection cut,
 * HTTP 408/429/5xx, or a stall: no byte for `stallTimeoutMs`) is retried with exponential backoff,
 * each retry resuming from the `.part` file; after the last one the `.part` is kept for a later run.
 */
import { createHash, type Hash } from 'node:crypto';
import { writeFileAtomic } from '@samtune/tensor-files';
import {
  createReadStream,
  existsSync,
  fsyncSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CHECKPOINT_REGISTRY, publishedCheckpoint, type PublishedCheckpoint } from './registry.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Neither an existing file nor a registry name. */
export class UnknownCheckpointError extends SamtuneError {
  readonly code: string = 'unknown-checkpoint';
  readonly kind: ErrorKind = 'not-found';
}
/** The download host could not be reached (offline, DNS, refused, HTTP error). */
export class CheckpointUnavailableError extends SamtuneError {
  readonly code: string = 'checkpoint-unavailable';
  readonly kind: ErrorKind = 'not-found';
}
/** Downloaded or cached bytes do not match the expected size or SHA-256. */
export class ChecksumMismatchError extends SamtuneError {
  readonly code: string = 'checksum-mismatch';
  readonly kind: ErrorKind = 'input';
  constructor(
    message: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(message);
  }
}

export interface ResolveCheckpointOptions {
  /** Cache directory; default `$SAMTUNE_CACHE`, else `~/.cache/samtune`. */
  cacheDir?: string;
  /** Called as bytes arrive: `done` so far (resumed bytes included), `total` when known. */
  onProgress?: (done: number, total: number | undefined) => void;
  /** `fetch` to use (tests); default the global fetch. */
  fetchImpl?: typeof fetch;
  /** Registry to resolve names in (tests); default `CHECKPOINT_REGISTRY`. */
  registry?: Readonly<Record<string, PublishedCheckpoint>>;
  /** Retries after a failed attempt (default 4). */
  retries?: number;
  /** Wait before the first retry, doubled for each next one up to 30 s (default 1000 ms). */
  retryDelayMs?: number;
  /** An attempt that receives no byte for this long is abandoned and retried (default `$SAMTUNE_DOWNLOAD_STALL_MS` or 60 s). */
  stallTimeoutMs?: number;
  /** Called before each retry with the attempt that failed, the wait and why. */
  onRetry?: (retry: { attempt: number; delayMs: number; reason: string }) => void;
}

/** A resolved checkpoint; `sha256` is set when resolving already hashed the file. */
export interface ResolvedCheckpoint {
  path: string;
  sha256?: string;
}

/** Default cache directory: `$SAMTUNE_CACHE` or `~/.cache/samtune`. */
export function defaultCacheDir(): string {
  return process.env.SAMTUNE_CACHE || join(homedir(), '.cache', 'samtune');
}

async function hashInto(hash: Hash, path: string): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
}

/** Lower-case hex SHA-256 of a file, streamed (works for multi-GB files). */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await hashInto(h, path);
  return h.digest('hex');
}

/** The expected hash: the registry's, else the sidecar recorded at first download. */
function expectedSha(entry: PublishedCheckpoint, finalPath: string): string | undefined {
  if (entry.sha256) return entry.sha256.toLowerCase();
  const side = `${finalPath}.sha256`;
  return existsSync(side) ? readFileSync(side, 'utf8').trim().split(/\s+/)[0]?.toLowerCase() : undefined;
}

function unavailable(
  name: string,
  entry: PublishedCheckpoint,
  cause: string,
  partKept?: string,
): CheckpointUnavailableError {
  const keep = partKept ? ` The partial download is kept at ${partKept}; run again to resume.` : '';
  return new CheckpointUnavailableError(
    `resolveCheckpoint('${name}'): could not download ${entry.url} (${cause}). You may be offline or the host is unreachable: download the file yourself and pass --checkpoint <path>.${keep}`,
  );
}

/** One attempt's failure: why, and whether another attempt may succeed. */
class AttemptFailed extends Error {
  constructor(
    readonly reason: string,
    readonly retryable: boolean,
  ) {
    super(reason);
  }
}

/** `work`, or `AttemptFailed` (retryable) after `ms` without it settling; `onStall` aborts the attempt. */
async function withStall<T>(work: Promise<T>, ms: number, what: string, onStall: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stall = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new AttemptFailed(`stalled: no data for ${ms} ms ${what}`, true)); // settles the race first
      onStall();
    }, ms);
  });
  try {
    return await Promise.race([work, stall]);
  } finally {
    clearTimeout(timer);
  }
}

/** Default stall timeout: `$SAMTUNE_DOWNLOAD_STALL_MS`, else 60 s. */
function defaultStallMs(): number {
  const v = Number(process.env.SAMTUNE_DOWNLOAD_STALL_MS);
  return Number.isFinite(v) && v > 0 ? v : 60_000;
}

async function download(
  name: string,
  entry: PublishedCheckpoint,
  finalPath: string,
  opts: ResolveCheckpointOptions,
): Promise<string> {
  const part = `${finalPath}.part`;
  const retries = opts.retries ?? 4;
  for (let attempt = 1; ; attempt++) {
    try {
      return await downloadOnce(name, entry, finalPath, opts);
    } catch (e) {
      if (!(e instanceof AttemptFailed)) throw e;
      const kept = existsSync(part) && statSync(part).size > 0 ? part : undefined;
      if (!e.retryable || attempt > retries)
        throw unavailable(name, entry, attempt > 1 ? `${e.reason}; gave up after ${attempt} attempts` : e.reason, kept);
      const delayMs = Math.min(30_000, (opts.retryDelayMs ?? 1000) * 2 ** (attempt - 1));
      opts.onRetry?.({ attempt, delayMs, reason: e.reason });
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}

/** One attempt: fetch (from the `.part` size on, with Range), stream into the `.part`, check, rename. */
async function downloadOnce(
  name: string,
  entry: PublishedCheckpoint,
  finalPath: string,
  opts: ResolveCheckpointOptions,
): Promise<string> {
  const part = `${finalPath}.part`;
  const fetchImpl = opts.fetchImpl ?? globalThis.fetch;
  const stallMs = opts.stallTimeoutMs ?? defaultStallMs();
  let start = existsSync(part) ? statSync(part).size : 0;
  if (entry.sizeBytes !== undefined && start > entry.sizeBytes) {
    rmSync(part, { force: true });
    start = 0;
  }
  const abort = new AbortController();
  let res: Response;
  try {
    const init: RequestInit = { signal: abort.signal, ...(start > 0 ? { headers: { Range: `bytes=${start}-` } } : {}) };
    res = await withStall(fetchImpl(entry.url, init), stallMs, 'waiting for the response', () => abort.abort());
  } catch (e) {
    if (e instanceof AttemptFailed) throw e;
    throw new AttemptFailed(describeError(e), true);
  }
  const hash = createHash('sha256');
  if (res.status === 416 && start > 0 && (entry.sizeBytes === undefined || start === entry.sizeBytes)) {
    // The part file already holds every byte.
    await hashInto(hash, part);
    return finish(name, entry, finalPath, part, start, hash.digest('hex'));
  }
  if (res.status !== 200 && res.status !== 206) {
    abort.abort();
    const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
    throw new AttemptFailed(`HTTP ${res.status} ${res.statusText}`, retryable);
  }
  if (res.status === 200)
    start = 0; // server ignored the range: restart
  else await hashInto(hash, part);
  const len = Number(res.headers.get('content-length') ?? NaN);
  const total = entry.sizeBytes ?? (Number.isFinite(len) ? start + len : undefined);
  const fd = openSync(part, start > 0 ? 'a' : 'w');
  let done = start;
  try {
    opts.onProgress?.(done, total);
    if (res.body) {
      const chunks = (res.body as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
      for (;;) {
        const next = await withStall(chunks.next(), stallMs, `after ${done} bytes`, () => abort.abort());
        if (next.done) break;
        const chunk = next.value;
        hash.update(chunk);
        let w = 0;
        while (w < chunk.byteLength) w += writeSync(fd, chunk, w, chunk.byteLength - w);
        done += chunk.byteLength;
        opts.onProgress?.(done, total);
      }
    }
    fsyncSync(fd);
  } catch (e) {
    abort.abort();
    if (e instanceof AttemptFailed) throw e;
    throw new AttemptFailed(`interrupted after ${done} bytes: ${describeError(e)}`, true);
  } finally {
    closeSync(fd);
  }
  return finish(name, entry, finalPath, part, done, hash.digest('hex'));
}

function finish(
  name: string,
  entry: PublishedCheckpoint,
  finalPath: string,
  part: string,
  size: number,
  actual: string,
): string {
  if (entry.sizeBytes !== undefined && size !== entry.sizeBytes) {
    rmSync(part, { force: true });
    throw new ChecksumMismatchError(
      `resolveCheckpoint('${name}'): ${entry.url} gave ${size} bytes, expected ${entry.sizeBytes}; the partial file was deleted`,
      String(entry.sizeBytes),
      String(size),
    );
  }
  const expected = expectedSha(entry, finalPath);
  if (expected && expected !== actual) {
    rmSync(part, { force: true });
    throw new ChecksumMismatchError(
      `resolveCheckpoint('${name}'): SHA-256 of ${entry.url} is ${actual}, expected ${expected}; the downloaded file was deleted`,
      expected,
      actual,
    );
  }
  renameSync(part, finalPath);
  writeFileAtomic(`${finalPath}.sha256`, `${actual}  ${entry.fileName}\n`);
  return actual;
}

function describeError(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
  }
  return String(e);
}

/**
 * Like `resolveCheckpoint`, also returning the SHA-256 when it was computed (download or cache
 * verification), so callers need not hash the file again.
 */
export async function resolveCheckpointDetailed(
  nameOrPath: string,
  opts: ResolveCheckpointOptions = {},
): Promise<ResolvedCheckpoint> {
  if (existsSync(nameOrPath) && statSync(nameOrPath).isFile()) return { path: resolve(nameOrPath) };
  const registry = opts.registry ?? CHECKPOINT_REGISTRY;
  const entry = publishedCheckpoint(nameOrPath, registry);
  if (!entry) {
    const what = existsSync(nameOrPath)
      ? 'is a directory (or not a regular file), not a checkpoint file'
      : 'is neither an existing file nor a published checkpoint';
    throw new UnknownCheckpointError(
      `resolveCheckpoint(nameOrPath): '${nameOrPath}' ${what} (expected a .pth/.pt/.safetensors file or one of ${Object.keys(registry).join(', ')})`,
    );
  }
  const dir = opts.cacheDir ?? defaultCacheDir();
  mkdirSync(dir, { recursive: true });
  const finalPath = join(dir, entry.fileName);
  if (existsSync(finalPath)) {
    const actual = await sha256File(finalPath);
    const expected = expectedSha(entry, finalPath);
    if (expected && expected !== actual) {
      throw new ChecksumMismatchError(
        `resolveCheckpoint('${nameOrPath}'): cached ${finalPath} has SHA-256 ${actual}, expected ${expected}; delete it to download again`,
        expected,
        actual,
      );
    }
    if (!expected) writeFileAtomic(`${finalPath}.sha256`, `${actual}  ${entry.fileName}\n`);
    return { path: finalPath, sha256: actual };
  }
  const sha256 = await download(nameOrPath, entry, finalPath, opts);
  return { path: finalPath, sha256 };
}

/**
 * Local path of a checkpoint: `nameOrPath` itself when it is an existing file (no network), else
 * the registry name's file in the cache, downloaded (resuming a `.part`) and verified first.
 * @throws UnknownCheckpointError, CheckpointUnavailableError (offline: pass `--checkpoint <path>`),
 *   ChecksumMismatchError (size or SHA-256, expected vs actual).
 */
export async function resolveCheckpoint(nameOrPath: string, opts: ResolveCheckpointOptions = {}): Promise<string> {
  return (await resolveCheckpointDetailed(nameOrPath, opts)).path;
}
