/** Test-only: a CliIO that records lines, and paths of the shared fixtures. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliIO } from '../command.js';

export function recordingIO(): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

/** `../shared/fixtures/sam-reference/<name>` beside the repo; throws when missing. */
export function referencePath(name: string): string {
  const p = resolve(fileURLToPath(import.meta.url), '../../../../../../shared/fixtures/sam-reference', name);
  if (!existsSync(p)) throw new Error(`referencePath(name): fixture ${p} not found (../shared must sit beside the repo)`);
  return p;
}
