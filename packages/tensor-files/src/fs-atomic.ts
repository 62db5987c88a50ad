/**
 * Atomic file writes: data goes to a temp file in the same folder, is fsynced, then renamed over the
 * target, so a reader (or a run killed mid-write) never sees a half-written file. Used for
 * checkpoints, caches, model.json, labels.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes `data` (a string, bytes, or byte chunks in order) to `path` atomically; creates the folder. */
export function writeFileAtomic(path: string, data: string | Uint8Array | Iterable<Uint8Array>): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    const chunks =
      typeof data === 'string' ? [new TextEncoder().encode(data)] : data instanceof Uint8Array ? [data] : data;
    for (const b of chunks) {
      let done = 0;
      while (done < b.byteLength) done += writeSync(fd, b, done, Math.min(1 << 30, b.byteLength - done));
    }
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * `writeFileAtomic` off the event loop (temp file, fsync, rename), for servers. Chunks (strings or
 * bytes, in order) are written one after the other, so a large file never has to be one string.
 */
export async function writeFileAtomicAsync(
  path: string,
  data: string | Uint8Array | Iterable<string | Uint8Array>,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle;
  try {
    handle = await open(tmp, 'w');
    // each writeFile on an open handle writes from the current position: the chunks follow each other
    for (const chunk of typeof data === 'string' || data instanceof Uint8Array ? [data] : data)
      await handle.writeFile(chunk);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
}
