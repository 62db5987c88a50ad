/**
 * Checkpoint memory bombs (issue 22): `.pth` views that reach more elements than their storage
 * (stride 0), negative or fractional sizes and strides, many tensors viewing one storage, and
 * safetensors whose data_offsets overlap, leave gaps or are fractional. Each is refused with a named
 * error before its tensors are allocated.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SafetensorsError, readSafetensors } from './safetensors.js';
import { manyViewsPth, overlappingSafetensors, safetensorsWith, strideZeroPth, viewPth } from './test-utils/bombs.js';
import { MAX_VIEW_EXPANSION, readTorchCheckpoint, TorchCheckpointError } from './torch.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-bombs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe('.pth views are bounded by their storage', () => {
  it('refuses a stride-0 view with more elements than its storage (700 bytes -> 1.6 GB)', () => {
    const bytes = strideZeroPth();
    expect(bytes.length).toBeLessThan(1024);
    const path = write('stride0.pth', bytes);
    expect(() => readTorchCheckpoint(path)).toThrow(TorchCheckpointError);
    expect(() => readTorchCheckpoint(path)).toThrow(
      `readTorchCheckpoint(${path}): tensor 't' [20000,20000] stride (0,0) offset 0: has 400000000 elements, expected at most its storage's 1 (overlapping or stride-0 view)`,
    );
  });

  it('refuses negative or fractional sizes, strides and offsets, and a stride count that differs', () => {
    for (const [size, stride, offset] of [
      [[-2, 2], [2, 1], 0],
      [[4], [-1], 3],
      [[2], [1], -1],
      [[2], [1, 1], 0],
    ] as const) {
      const path = write('neg.pth', viewPth(4, size, stride, offset));
      expect(() => readTorchCheckpoint(path)).toThrow(
        /expected non-negative integer sizes, strides and offset, one stride per size/,
      );
    }
  });

  it('still reads a partial view, a transposed view and an empty one', () => {
    expect(readTorchCheckpoint(write('ok.pth', viewPth(6, [2, 3], [3, 1]))).get('t')?.shape).toEqual([2, 3]);
    expect(readTorchCheckpoint(write('ok.pth', viewPth(6, [3, 2], [1, 3]))).get('t')?.shape).toEqual([3, 2]);
    expect(readTorchCheckpoint(write('ok.pth', viewPth(6, [2], [1], 4))).get('t')?.data.length).toBe(2);
    expect(readTorchCheckpoint(write('ok.pth', viewPth(1, [0, 5], [5, 1]))).get('t')?.data.length).toBe(0);
  });

  it(`refuses more than ${MAX_VIEW_EXPANSION}x a storage's elements materialised over its views`, () => {
    const path = write('views.pth', manyViewsPth(10, 1024));
    expect(() => readTorchCheckpoint(path)).toThrow(
      `readTorchCheckpoint(${path}): the 10 tensors viewing storage '0' (up to 'v4') need 5120 elements, expected at most 4 x the storage's 1024`,
    );
    // tied weights (two names, one storage) are fine
    expect([...readTorchCheckpoint(write('tied.pth', manyViewsPth(2, 1024))).keys()]).toEqual(['v0', 'v1']);
  });
});

describe('safetensors data_offsets tile the data section', () => {
  it('refuses overlapping tensors (4 MB -> 1.4 GB) before reading any', () => {
    const bytes = overlappingSafetensors();
    expect(() => readSafetensors(bytes)).toThrow(SafetensorsError);
    expect(() => readSafetensors(bytes)).toThrow(
      "readSafetensors(<bytes>): tensor 't1' starts at data byte 0, expected 4194304: its bytes overlap another tensor (the format requires the tensors to tile the data)",
    );
  });

  it('refuses fractional or negative offsets and sizes, and gaps', () => {
    const f32 = (shape: unknown, data_offsets: unknown): Uint8Array =>
      safetensorsWith({ a: { dtype: 'F32', shape, data_offsets } }, 16);
    expect(() => readSafetensors(f32([1], [0, 4.5]))).toThrow(
      "tensor 'a' has data_offsets [0,4.5], expected [begin, end] integers with 0 <= begin <= end",
    );
    expect(() => readSafetensors(f32([1], [-4, 0]))).toThrow(/data_offsets \[-4,0\]/);
    expect(() => readSafetensors(f32([-1, -4], [0, 16]))).toThrow(
      "tensor 'a' has shape [-1,-4], expected non-negative integers",
    );
    expect(() => readSafetensors(f32([0.5, 8], [0, 16]))).toThrow(/has shape \[0.5,8\]/);
    expect(() => readSafetensors(f32([2], [8, 16]))).toThrow(
      "tensor 'a' starts at data byte 8, expected 0: bytes [0, 8) belong to no tensor",
    );
  });
});
