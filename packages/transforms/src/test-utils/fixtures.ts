/**
 * Test-only: locates `../shared` (beside the repo root) and its fixtures. A missing fixture fails
 * loudly with the path it looked for; tests never skip silently.
 */
import { readFileSync } from 'node:fs';
export { repoRoot, referencePath } from '@samtune/test-fixtures';

/** Minimal safetensors reader for F32 tensors (tests only). */
export function readSafetensorsF32(
  path: string,
  names: readonly string[],
): Map<string, { shape: number[]; data: Float32Array }> {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const name of names) {
    const e = header[name];
    if (!e) throw new Error(`readSafetensorsF32(names): tensor '${name}' not in ${path}`);
    if (e.dtype !== 'F32') throw new Error(`readSafetensorsF32(names): expected F32 for '${name}', got ${e.dtype}`);
    const [a, b] = e.data_offsets;
    const bytes = buf.subarray(8 + n + a, 8 + n + b);
    const data = new Float32Array(bytes.byteLength / 4);
    for (let i = 0; i < data.length; i++) data[i] = bytes.readFloatLE(i * 4);
    out.set(name, { shape: e.shape, data });
  }
  return out;
}
