/**
 * Minimal ZIP reader (central directory, ZIP64, stored and deflate entries) that reads entries with
 * positioned reads instead of loading the whole archive: `torch.save` archives of ViT-H are 2.5 GB,
 * past what `readFileSync` can return. Sizes are checked before anything is allocated or inflated
 * (zip bombs, lying headers). The tiny stored-only writer tests use is in `test-utils/zip-write.ts`.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown for a malformed or unsupported archive; the message names the file and the record. */
export class ZipFormatError extends SamtuneError {
  readonly code: string = 'zip-format';
  readonly kind: ErrorKind = 'input';
}

/** One central-directory entry. Offsets and sizes in bytes. */
export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate. */
  readonly method: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CDIR_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
/** Largest single read() we issue (Linux caps one read near 2 GiB). */
const MAX_CHUNK = 1 << 30;
/**
 * Deflate cannot expand better than about 1032:1 (a 258-byte match per 2-bit code); a declared size
 * beyond that for its compressed size is a lie, refused before inflating.
 */
export const MAX_DEFLATE_RATIO = 1032;

/** Bounds on one `ZipArchive.read`. */
export interface ZipReadOptions {
  /**
   * Largest uncompressed size the caller accepts for this entry (bytes). The declared size is
   * checked against it before anything is allocated or inflated.
   */
  readonly maxBytes?: number;
}

function u64(buf: Buffer, off: number, what: string, file: string): number {
  const v = buf.readBigUInt64LE(off);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError(`readZip(${file}): ${what} ${v} exceeds 2^53`);
  return Number(v);
}

/** Reads exactly `length` bytes at `position` into `target` (at `targetOffset`), looping over short reads. */
export function readFully(
  fd: number,
  target: Uint8Array,
  targetOffset: number,
  length: number,
  position: number,
  file: string,
): void {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, target, targetOffset + done, Math.min(MAX_CHUNK, length - done), position + done);
    if (n <= 0)
      throw new ZipFormatError(
        `readFully(${file}): unexpected end of file at byte ${position + done}, wanted ${length - done} more`,
      );
    done += n;
  }
}

/**
 * An open ZIP archive. Call `close()` when done (or use `withZip`). Entry data is read on demand
 * into fresh (8-byte aligned) ArrayBuffers.
 */
export class ZipArchive {
  readonly entries: Map<string, ZipEntry>;
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    entries: Map<string, ZipEntry>,
  ) {
    this.fd = fd;
    this.entries = entries;
  }

  /** Opens `path` and parses its central directory (ZIP64 aware). */
  static open(path: string): ZipArchive {
    const fd = openSync(path, 'r');
    try {
      return new ZipArchive(path, fd, readCentralDirectory(fd, path));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  private handle(): number {
    if (this.fd === undefined) throw new ZipFormatError(`ZipArchive(${this.path}): archive already closed`);
    return this.fd;
  }

  /** Entry by exact name; throws a ZipFormatError listing a few names when absent. */
  entry(name: string): ZipEntry {
    const e = this.entries.get(name);
    if (!e) {
      const some = [...this.entries.keys()].slice(0, 5).join(', ');
      throw new ZipFormatError(
        `ZipArchive.entry(${this.path}): no entry '${name}' (archive has ${this.entries.size}: ${some}, …)`,
      );
    }
    return e;
  }

  /**
   * Uncompressed bytes of an entry, in a new Uint8Array whose buffer starts at offset 0. Sizes are
   * checked before anything is allocated: the compressed data must lie inside the file, the declared
   * size must not exceed `opts.maxBytes` nor `MAX_DEFLATE_RATIO` times the compressed size, and
   * inflation stops at the declared size (an entry that inflates past it is refused).
   */
  read(nameOrEntry: string | ZipEntry, opts: ZipReadOptions = {}): Uint8Array {
    const e = typeof nameOrEntry === 'string' ? this.entry(nameOrEntry) : nameOrEntry;
    const fd = this.handle();
    const where = `ZipArchive.read(${this.path})`;
    if (opts.maxBytes !== undefined && e.uncompressedSize > opts.maxBytes)
      throw new ZipFormatError(
        `${where}: entry '${e.name}' declares ${e.uncompressedSize} bytes uncompressed, expected at most ${opts.maxBytes}`,
      );
    const local = Buffer.alloc(30);
    readFully(fd, local, 0, 30, e.localHeaderOffset, this.path);
    if (local.readUInt32LE(0) !== LOCAL_SIG) {
      throw new ZipFormatError(`${where}: bad local header signature for '${e.name}' at byte ${e.localHeaderOffset}`);
    }
    const dataStart = e.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    const fileSize = fstatSync(fd).size;
    if (dataStart + e.compressedSize > fileSize)
      throw new ZipFormatError(
        `${where}: entry '${e.name}' declares ${e.compressedSize} compressed bytes from byte ${dataStart}, but the file ends at byte ${fileSize}`,
      );
    if (e.method === 8 && e.uncompressedSize > e.compressedSize * MAX_DEFLATE_RATIO + 64)
      throw new ZipFormatError(
        `${where}: entry '${e.name}' declares ${e.uncompressedSize} bytes from ${e.compressedSize} compressed, beyond deflate's maximum ratio ${MAX_DEFLATE_RATIO}:1`,
      );
    if (e.method === 0) {
      if (e.compressedSize !== e.uncompressedSize) {
        throw new ZipFormatError(
          `ZipArchive.read(${this.path}): stored entry '${e.name}' has compressed size ${e.compressedSize} != size ${e.uncompressedSize}`,
        );
      }
      const out = new Uint8Array(new ArrayBuffer(e.uncompressedSize));
      readFully(fd, out, 0, e.uncompressedSize, dataStart, this.path);
      return out;
    }
    if (e.method === 8) {
      const raw = Buffer.alloc(e.compressedSize);
      readFully(fd, raw, 0, e.compressedSize, dataStart, this.path);
      let inflated: Buffer;
      try {
        // One byte of headroom: an entry that inflates past its declared size fails here, bounded.
        inflated = inflateRawSync(raw, { maxOutputLength: e.uncompressedSize + 1 });
      } catch (err) {
        const tooLarge = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
        throw new ZipFormatError(
          tooLarge
            ? `${where}: '${e.name}' inflates past its declared size of ${e.uncompressedSize} bytes (lying header or zip bomb)`
            : `${where}: '${e.name}' is not valid deflate data (${(err as Error).message})`,
        );
      }
      if (inflated.length !== e.uncompressedSize) {
        throw new ZipFormatError(
          `ZipArchive.read(${this.path}): '${e.name}' inflated to ${inflated.length} bytes, expected ${e.uncompressedSize}`,
        );
      }
      const out = new Uint8Array(new ArrayBuffer(inflated.length));
      out.set(inflated);
      return out;
    }
    throw new ZipFormatError(
      `ZipArchive.read(${this.path}): entry '${e.name}' uses compression method ${e.method}, expected 0 (stored) or 8 (deflate)`,
    );
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Opens a zip, runs `fn`, always closes. */
export function withZip<T>(path: string, fn: (zip: ZipArchive) => T): T {
  const zip = ZipArchive.open(path);
  try {
    return fn(zip);
  } finally {
    zip.close();
  }
}

function readCentralDirectory(fd: number, file: string): Map<string, ZipEntry> {
  const size = fstatSync(fd).size;
  const tailLen = Math.min(size, 22 + 0xffff);
  const tail = Buffer.alloc(tailLen);
  readFully(fd, tail, 0, tailLen, size - tailLen, file);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0)
    throw new ZipFormatError(`readZip(${file}): no end-of-central-directory record (not a zip / torch.save archive?)`);
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  const locAt = eocd - 20;
  if (locAt >= 0 && tail.readUInt32LE(locAt) === ZIP64_LOCATOR_SIG) {
    const z64Offset = u64(tail, locAt + 8, 'zip64 EOCD offset', file);
    const rec = Buffer.alloc(56);
    readFully(fd, rec, 0, 56, z64Offset, file);
    if (rec.readUInt32LE(0) !== ZIP64_EOCD_SIG)
      throw new ZipFormatError(`readZip(${file}): bad ZIP64 end record signature at byte ${z64Offset}`);
    count = u64(rec, 32, 'entry count', file);
    cdSize = u64(rec, 40, 'central directory size', file);
    cdOffset = u64(rec, 48, 'central directory offset', file);
  }
  if (cdOffset + cdSize > size)
    throw new ZipFormatError(
      `readZip(${file}): central directory [${cdOffset}, ${cdOffset + cdSize}) reaches past the end of the file (${size} bytes)`,
    );
  const cd = Buffer.alloc(cdSize);
  readFully(fd, cd, 0, cdSize, cdOffset, file);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CDIR_SIG)
      throw new ZipFormatError(`readZip(${file}): bad central directory record ${i} at byte ${cdOffset + p}`);
    const method = cd.readUInt16LE(p + 10);
    let compressedSize = cd.readUInt32LE(p + 20);
    let uncompressedSize = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    // ZIP64 extended information: present fields appear in this order when the 32-bit one is 0xffffffff.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = cd.readUInt16LE(x);
      const len = cd.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        if (uncompressedSize === 0xffffffff) {
          uncompressedSize = u64(cd, q, `size of '${name}'`, file);
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = u64(cd, q, `compressed size of '${name}'`, file);
          q += 8;
        }
        if (localHeaderOffset === 0xffffffff) {
          localHeaderOffset = u64(cd, q, `offset of '${name}'`, file);
        }
      }
      x += 4 + len;
    }
    entries.set(name, { name, method, compressedSize, uncompressedSize, localHeaderOffset });
    p = xEnd + commentLen;
  }
  return entries;
}
