/**
 * Test-only: builds small datasets in a temp dir from a `{ relativePath: content }` map.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A file's content: text, bytes, or an object written as JSON. */
export type FileContent = string | Uint8Array | Record<string, unknown> | unknown[];

/** Writes `files` under a fresh temp dir; returns its path. */
export function makeDataset(files: Record<string, FileContent>, prefix = 'samtune-ds-'): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  writeFiles(root, files);
  return root;
}

/** Writes `files` under `root`. */
export function writeFiles(root: string, files: Record<string, FileContent>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, typeof content === 'string' || content instanceof Uint8Array ? content : JSON.stringify(content));
  }
}

/** Removes a temp dataset. */
export function removeDataset(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

/** Number of 1s in a mask. */
export function countOnes(data: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) n += data[i] ? 1 : 0;
  return n;
}
