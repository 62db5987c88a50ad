/**
 * Test-only: small checkpoint files that used to take huge memory (issue 22), built byte by byte so
 * no binary bomb is committed. Used by `memory-bombs.test.ts` and `bench/hostile.bench.ts`.
 */
import { createDeflate, createDeflateRaw } from 'node:zlib';
import { P, pickle, tensorOps, torchZip } from './test-pickle.js';

/**
 * `total` zero bytes deflated in 1 MiB chunks (never held whole): raw deflate (zip entries) or a zlib
 * stream (PNG IDAT). About 1 KB per MiB.
 */
export async function deflatedZeros(total: number, format: 'raw' | 'zlib' = 'raw'): Promise<Buffer> {
  const d = format === 'raw' ? createDeflateRaw({ level: 9 }) : createDeflate({ level: 9 });
  const out: Buffer[] = [];
  d.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((r) => d.on('end', r));
  const chunk = Buffer.alloc(1 << 20);
  for (let n = 0; n < total; n += chunk.length) d.write(chunk.subarray(0, Math.min(chunk.length, total - n)));
  d.end();
  await done;
  return Buffer.concat(out);
}

/** A state dict pickle of `(name, tensor ops)` pairs, set one by one (no MARK limit on the count). */
function stateDict(entries: Iterable<[string, number[]]>): Uint8Array {
  const parts: number[][] = [P.proto(), P.global('collections', 'OrderedDict'), P.emptyTuple(), P.reduce()];
  for (const [k, v] of entries) parts.push(P.str(k), v, P.setitem());
  parts.push(P.stop());
  return pickle(...parts);
}

/** `.pth`: one float32 storage of `floats` elements and one tensor `t` viewing it as `size`/`stride`. */
export function viewPth(floats: number, size: readonly number[], stride: readonly number[], offset = 0): Uint8Array {
  return torchZip(stateDict([['t', tensorOps('FloatStorage', '0', floats, offset, size, stride)]]), {
    '0': new Uint8Array(floats * 4),
  });
}

/** `.pth` (~700 bytes): a 1-element storage viewed as `side`x`side` with stride 0 (`side^2` floats). */
export function strideZeroPth(side = 20_000): Uint8Array {
  return viewPth(1, [side, side], [0, 0]);
}

/** `.pth`: `views` tensors, each the whole of one `floats`-element storage (each used to be copied). */
export function manyViewsPth(views = 400, floats = 1 << 20): Uint8Array {
  const entries = Array.from({ length: views }, (_, i): [string, number[]] => [
    `v${i}`,
    tensorOps('FloatStorage', '0', floats, 0, [floats], [1]),
  ]);
  return torchZip(stateDict(entries), { '0': new Uint8Array(floats * 4) });
}

/** A safetensors file from a header object and `dataBytes` zero bytes of data. */
export function safetensorsWith(header: Record<string, unknown>, dataBytes: number): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return new Uint8Array(Buffer.concat([len, json, Buffer.alloc(dataBytes)]));
}

/** safetensors (~4 MB): `count` F32 tensors whose data_offsets all name the same 4 MB (overlap). */
export function overlappingSafetensors(count = 350, bytes = 4 << 20): Uint8Array {
  const header: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) header[`t${i}`] = { dtype: 'F32', shape: [bytes / 4], data_offsets: [0, bytes] };
  return safetensorsWith(header, bytes);
}
