import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { referencePath } from './test-utils/fixtures.js';
import type { HostTensor, WeightMap } from '@samtune/tensor';
import { SafetensorsError, encodeSafetensors, readSafetensors, writeSafetensors } from './safetensors.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file written by hand, the way the Python library lays it out. */
function handMade(
  entries: Array<[string, string, number[], Uint8Array]>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let off = 0;
  for (const [name, dtype, shape, data] of entries) {
    header[name] = { dtype, shape, data_offsets: [off, off + data.length] };
    off += data.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return new Uint8Array(Buffer.concat([len, json, ...entries.map((e) => Buffer.from(e[3]))]));
}

const u8 = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('readSafetensors', () => {
  it('reads the reference outputs with the values numpy reads', () => {
    const loss = readSafetensors(referencePath('loss.safetensors'));
    expect(loss.tensors.size).toBe(9);
    expect(loss.tensors.get('loss')!.data[0]).toBe(Math.fround(12.823368072509766));
    expect(loss.tensors.get('loss_dice')!.data[0]).toBe(Math.fround(0.5539883375167847));
    const out = readSafetensors(referencePath('tinyvit_outputs.safetensors'));
    expect(out.tensors.size).toBe(29);
    const emb = out.tensors.get('dog.image_embeddings')!;
    expect(emb.shape).toEqual([1, 256, 64, 64]);
    let s = 0;
    for (const v of emb.data as Float32Array) s += v;
    expect(s).toBeCloseTo(-4963.520493313525, 6);
    expect(readSafetensors(referencePath('tinyvit_train_step.safetensors')).tensors.size).toBe(130);
  });

  it('widens F16/BF16/F64 to float32 and keeps integer dtypes, from bytes and from a path', () => {
    const bytes = handMade(
      [
        ['h', 'F16', [2], u8(new Uint16Array([0x3c00, 0xbc00]))],
        ['b', 'BF16', [1], u8(new Uint16Array([0x4049]))],
        ['d', 'F64', [2], u8(new Float64Array([1 / 3, -2]))],
        ['q', 'I64', [1], u8(new BigInt64Array([-(2n ** 60n)]))],
        ['m', 'BOOL', [2], new Uint8Array([0, 1])],
        ['c', 'I8', [1], new Uint8Array([0xff])],
      ],
      { format: 'pt' },
    );
    const path = join(dir, 'hand.safetensors');
    writeFileSync(path, bytes);
    for (const src of [bytes, path]) {
      const { tensors, metadata } = readSafetensors(src);
      expect(metadata).toEqual({ format: 'pt' });
      expect(Array.from(tensors.get('h')!.data as Float32Array)).toEqual([1, -1]);
      expect(Array.from(tensors.get('b')!.data as Float32Array)).toEqual([3.140625]);
      expect(tensors.get('d')!.dtype).toBe('float32');
      expect(Array.from(tensors.get('d')!.data as Float32Array)).toEqual([Math.fround(1 / 3), -2]);
      expect(tensors.get('q')!.data).toEqual(new BigInt64Array([-(2n ** 60n)]));
      expect(tensors.get('m')!.dtype).toBe('bool');
      expect(Array.from(tensors.get('c')!.data as Int8Array)).toEqual([-1]);
    }
  });

  it('names the tensor when offsets do not fit the shape, and rejects unknown dtypes', () => {
    expect(() => readSafetensors(handMade([['w', 'F32', [3], new Uint8Array(8)]]))).toThrow(
      /tensor 'w' F32\[3\] needs 12 bytes, offsets give 8/,
    );
    expect(() => readSafetensors(handMade([['w', 'C64', [1], new Uint8Array(8)]]))).toThrow(SafetensorsError);
  });
});

describe('encodeSafetensors / writeSafetensors', () => {
  const tensors: WeightMap = new Map<string, HostTensor>([
    ['u', { dtype: 'uint8', shape: [3], data: new Uint8Array([1, 2, 3]) }],
    ['w', { dtype: 'float32', shape: [2, 2], data: new Float32Array([0.5, -1, 2, 1e-8]) }],
    ['i', { dtype: 'int64', shape: [2], data: new BigInt64Array([5n, -(2n ** 62n)]) }],
    ['j', { dtype: 'int32', shape: [1], data: new Int32Array([-7]) }],
    ['k', { dtype: 'int16', shape: [1], data: new Int16Array([-300]) }],
    ['s', { dtype: 'float32', shape: [], data: new Float32Array([42]) }],
    ['z', { dtype: 'bool', shape: [2], data: new Uint8Array([1, 0]) }],
  ]);

  it('round-trips every host dtype with 8-aligned header and naturally aligned data', () => {
    const bytes = encodeSafetensors(tensors, { 'samtune.config': '{"a":1}' });
    const hlen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + hlen) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen))) as Record<
      string,
      { dtype: string; data_offsets: [number, number] }
    >;
    expect(header.i!.dtype).toBe('I64');
    expect(header.z!.dtype).toBe('BOOL');
    for (const [k, t] of tensors) expect(header[k]!.data_offsets[0] % t.data.BYTES_PER_ELEMENT).toBe(0);
    const back = readSafetensors(bytes);
    expect(back.metadata).toEqual({ 'samtune.config': '{"a":1}' });
    expect([...back.tensors.keys()]).toEqual([...tensors.keys()]);
    for (const [k, t] of tensors) {
      expect(back.tensors.get(k)!.dtype).toBe(t.dtype);
      expect(back.tensors.get(k)!.shape).toEqual(t.shape);
      expect(back.tensors.get(k)!.data).toEqual(t.data);
    }
  });

  it('writes atomically: same bytes as encode, replaces the old file, leaves no temp file', () => {
    const path = join(dir, 'out.safetensors');
    writeFileSync(path, 'old content');
    writeSafetensors(path, tensors, { note: 'x' });
    expect(new Uint8Array(readFileSync(path))).toEqual(encodeSafetensors(tensors, { note: 'x' }));
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(() =>
      writeSafetensors(path, new Map([['bad', { dtype: 'float32', shape: [3], data: new Float32Array(2) }]])),
    ).toThrow(/tensor 'bad' has 2 elements but shape \[3\]/);
    expect(readSafetensors(path).metadata).toEqual({ note: 'x' });
  });
});
