/**
 * Resolves a checkpoint argument to a local file: an existing path is used as is (offline); a
 * registry name is downloaded once into the cache with resume (HTTP Range), progress, size and
 * streamed SHA-256 checks, and an atomic rename.
 */
import { createHash, type Hash } from 'node:crypto';
import { writeFileAtomic } from '../fs-atomic.js';
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
  override readonly name = 'UnknownCheckpointError';
}
/** The download host could not be reached (offline, DNS, refused, HTTP error). */
export class CheckpointUnavailableError extends SamtuneError {
  readonly code: string = 'checkpoint-unavailable';
  readonly kind: ErrorKind = 'not-found';
  override readonly name = 'CheckpointUnavailableError';
}
/** Downloaded or cached bytes do not match the expected size or SHA-256. */
export class ChecksumMismatchError extends SamtuneError {
  readonly code: string = 'checksum-mismatch';
  readonly kind: ErrorKind = 'input';
  override readonly name = 'ChecksumMismatchError';
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

async function download(
  name: string,
  entry: PublishedCheckpoint,
  finalPath: string,
  opts: ResolveCheckpointOptions,
): Promise<string> {
  const part = `${finalPath}.part`;
  const fetchImpl = opts.fetchImpl ?? globalThis.fetch;
  let start = existsSync(part) ? statSync(part).size : 0;
  if (entry.sizeBytes !== undefined && start > entry.sizeBytes) {
    rmSync(part, { force: true });
    start = 0;
  }
  let res: Response;
  try {
    res = await fetchImpl(entry.url, start > 0 ? { headers: { Range: `bytes=${start}-` } } : {});
  } catch (e) {
    throw unavailable(name, entry, describeError(e), start > 0 ? part : undefined);
  }
  const hash = createHash('sha256');
  if (res.status === 416 && start > 0 && (entry.sizeBytes === undefined || start === entry.sizeBytes)) {
    // The part file already holds every byte.
    await hashInto(hash, part);
    return finish(name, entry, finalPath, part, start, hash.digest('hex'));
  }
  if (res.status !== 200 && res.status !== 206) {
    throw unavailable(name, entry, `HTTP ${res.status} ${res.statusText}`, start > 0 ? part : undefined);
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
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        let w = 0;
        while (w < chunk.byteLength) w += writeSync(fd, chunk, w, chunk.byteLength - w);
        done += chunk.byteLength;
        opts.onProgress?.(done, total);
      }
    }
    fsyncSync(fd);
  } catch (e) {
    throw unavailable(name, entry, `interrupted after ${done} bytes: ${describeError(e)}`, part);
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
