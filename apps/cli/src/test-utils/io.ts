/** Test-only: a CliIO that records lines, and paths of the shared fixtures. */
import type { CliIO } from '../command.js';
export { referencePath } from '@samtune/test-fixtures';

export function recordingIO(): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}
