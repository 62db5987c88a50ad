/**
 * Test-only child process: `node --import tsx test-utils/read-child.ts <checkpoint path>` reads the
 * checkpoint with `readTorchCheckpoint` and prints one JSON line: the error (name, message) or the
 * tensor count, and the process's peak resident set size in MiB (`maxRssMiB`).
 */
import { readTorchCheckpoint } from '../torch.js';

const path = process.argv[2] as string;
let result: Record<string, unknown>;
try {
  result = { ok: true, tensors: readTorchCheckpoint(path).size };
} catch (err) {
  const e = err as Error;
  result = { ok: false, error: e.name, message: e.message };
}
console.log(JSON.stringify({ ...result, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
