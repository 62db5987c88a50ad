import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { referencePath } from './test-utils/fixtures.js';
import type { HostTensor } from '@samtune/tensor';
import { P, bytesOf, pickle, tensorOps, torchZip } from './test-utils/test-pickle.js';
import { readTorchCheckpoint } from './torch.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-torch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sum(t: HostTensor): number {
  let s = 0;
  for (const v of t.data) s += Number(v);
  return s;
}

describe('readTorchCheckpoint on the reference fixtures', () => {
  it('reads tinyvit.pth (MobileSAM layout): 439 tensors with the values numpy reads from the raw storages', () => {
    const w = readTorchCheckpoint(referencePath('tinyvit.pth'));
    expect(w.size).toBe(439);
    const keys = [...w.keys()];
    expect(keys[0]).toBe('image_encoder.patch_embed.seq.0.c.weight');
    expect(keys.at(-1)).toBe('mask_decoder.iou_prediction_head.layers.2.bias');
    const ints = keys.filter((k) => w.get(k)!.dtype === 'int64');
    expect(ints.length).toBe(27);
    expect(ints.every((k) => k.endsWith('.bn.num_batches_tracked'))).toBe(true);
    const nbt = w.get('image_encoder.patch_embed.seq.0.bn.num_batches_tracked')!;
    expect(nbt.shape).toEqual([]);
    expect(nbt.data).toBeInstanceOf(BigInt64Array);
    expect(nbt.data[0]).toBe(0n);
    // MobileSAM registers attention_bias_idxs with persistent=False: not in the file.
    expect(keys.filter((k) => k.endsWith('attention_bias_idxs'))).toEqual([]);
    expect(w.get('image_encoder.layers.1.blocks.0.attn.attention_biases')!.shape).toEqual([4, 49]);
    expect(w.get('image_encoder.layers.2.blocks.5.attn.attention_biases')!.shape).toEqual([5, 196]);
    const c0 = w.get('image_encoder.patch_embed.seq.0.c.weight')!;
    expect(c0.dtype).toBe('float32');
    expect(c0.shape).toEqual([32, 3, 3, 3]);
    expect(Array.from(c0.data.slice(0, 3) as Float32Array)).toEqual([
      -0.21666797995567322, -0.22177182137966156, -0.04822387173771858,
    ]);
    // Sums computed with numpy.frombuffer over the zip entries (float64 accumulation).
    expect(sum(c0)).toBeCloseTo(6.280707594749401, 9);
    expect(sum(w.get('mask_decoder.iou_token.weight')!)).toBeCloseTo(12.314908407628536, 9);
    expect(sum(w.get('prompt_encoder.pe_layer.positional_encoding_gaussian_matrix')!)).toBeCloseTo(
      -2.714779434958473,
      9,
    );
    expect(w.get('image_encoder.head.weight')!.shape).toEqual([1000, 320]);
    for (const t of w.values()) expect(t.data.byteOffset % t.data.BYTES_PER_ELEMENT).toBe(0);
  });

  it('reads vit_mini.pth: 202 float32 tensors, values as numpy reads them', () => {
    const w = readTorchCheckpoint(referencePath('vit_mini.pth'));
    expect(w.size).toBe(202);
    expect([...w.values()].every((t) => t.dtype === 'float32')).toBe(true);
    const pos = w.get('image_encoder.pos_embed')!;
    expect(pos.shape).toEqual([1, 64, 64, 192]);
    expect(sum(pos)).toBeCloseTo(-12.474343516612091, 7);
    expect(sum(w.get('image_encoder.patch_embed.proj.weight')!)).toBeCloseTo(-13.044480706461712, 7);
    expect(sum(w.get('mask_decoder.iou_token.weight')!)).toBeCloseTo(1.0292487926781178, 9);
    expect(w.get('image_encoder.blocks.1.attn.rel_pos_h')!.shape).toEqual([127, 64]);
    expect(w.get('image_encoder.blocks.0.attn.rel_pos_h')!.shape).toEqual([27, 64]);
  });
});

describe('readTorchCheckpoint on hand-built archives', () => {
  const f32 = bytesOf(new Float32Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
  const f16 = bytesOf(new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001]));
  const bf16 = bytesOf(new Uint16Array([0x3fc0, 0xc040]));
  const f64 = bytesOf(new Float64Array([0.1, 1e10]));
  const i64 = bytesOf(new BigInt64Array([-1n, 2n ** 40n]));
  const bool = new Uint8Array([1, 0, 1]);
  const storages = { '0': f32, '1': f16, '2': bf16, '3': f64, '4': i64, '5': bool };
  const entries: Array<[string, number[]]> = [
    ['contig', tensorOps('FloatStorage', '0', 12, 0, [3, 4], [4, 1])],
    ['transposed', tensorOps('FloatStorage', '0', 12, 0, [4, 3], [1, 4])],
    ['offset', tensorOps('FloatStorage', '0', 12, 5, [2, 2], [4, 1])],
    ['half', tensorOps('HalfStorage', '1', 5, 0, [5], [1])],
    ['bf16', tensorOps('BFloat16Storage', '2', 2, 0, [2], [1])],
    ['double', tensorOps('DoubleStorage', '3', 2, 0, [2], [1])],
    ['long', tensorOps('LongStorage', '4', 2, 0, [2], [1])],
    ['bool', tensorOps('BoolStorage', '5', 3, 0, [3], [1])],
    [
      'param',
      [
        ...P.global('torch._utils', '_rebuild_parameter'),
        ...P.mark(),
        ...tensorOps('FloatStorage', '0', 12, 11, [], []),
        ...P.newtrue(),
        ...P.global('collections', 'OrderedDict'),
        ...P.emptyTuple(),
        ...P.reduce(),
        ...P.tuple(),
        ...P.reduce(),
      ],
    ],
  ];
  // {'epoch': 3, 'state_dict': OrderedDict(...)} with _metadata attached by BUILD, as trainers save it.
  const inner = entries.flatMap(([k, v]) => [...P.str(k), ...v]);
  const pkl = pickle(
    P.proto(),
    P.emptyDict(),
    P.str('epoch'),
    P.int(3),
    P.setitem(),
    P.str('state_dict'),
    P.global('collections', 'OrderedDict'),
    P.emptyTuple(),
    P.reduce(),
    P.mark(),
    inner,
    P.setitems(),
    P.emptyDict(),
    P.str('_metadata'),
    P.global('collections', 'OrderedDict'),
    P.emptyTuple(),
    P.reduce(),
    P.setitem(),
    P.build(),
    P.setitem(),
    P.stop(),
  );

  it('unwraps state_dict, materialises strides/offsets/shared storages and widens dtypes', () => {
    const path = join(dir, 'synthetic.pth');
    writeFileSync(path, torchZip(pkl, storages));
    const w = readTorchCheckpoint(path);
    expect([...w.keys()]).toEqual(entries.map((e) => e[0]));
    expect(Array.from(w.get('contig')!.data as Float32Array)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(w.get('transposed')!.shape).toEqual([4, 3]);
    expect(Array.from(w.get('transposed')!.data as Float32Array)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    expect(Array.from(w.get('offset')!.data as Float32Array)).toEqual([5, 6, 9, 10]);
    expect(Array.from(w.get('half')!.data as Float32Array)).toEqual([1, -2, 0.5, 65504, 2 ** -24]);
    expect(Array.from(w.get('bf16')!.data as Float32Array)).toEqual([1.5, -3]);
    expect(w.get('double')!.dtype).toBe('float32');
    expect(Array.from(w.get('double')!.data as Float32Array)).toEqual([Math.fround(0.1), 1e10]);
    expect(w.get('long')!.data).toEqual(new BigInt64Array([-1n, 2n ** 40n]));
    expect(w.get('bool')!.dtype).toBe('bool');
    expect(Array.from(w.get('bool')!.data as Uint8Array)).toEqual([1, 0, 1]);
    const param = w.get('param')!;
    expect(param.shape).toEqual([]);
    expect(Array.from(param.data as Float32Array)).toEqual([11]);
    // Shared storage: tensors own separate copies (no aliasing between keys).
    (w.get('contig')!.data as Float32Array)[0] = 99;
    expect((w.get('transposed')!.data as Float32Array)[0]).toBe(0);
  });

  it('swaps bytes when the archive says byteorder big', () => {
    const be = new Uint8Array(8);
    new DataView(be.buffer).setFloat32(0, 1.25, false);
    new DataView(be.buffer).setFloat32(4, -7, false);
    const path = join(dir, 'big.pth');
    writeFileSync(
      path,
      torchZip(
        pickle(
          P.proto(),
          P.global('collections', 'OrderedDict'),
          P.emptyTuple(),
          P.reduce(),
          P.str('x'),
          tensorOps('FloatStorage', '0', 2, 0, [2], [1]),
          P.setitem(),
          P.stop(),
        ),
        { '0': be },
        'big',
      ),
    );
    expect(Array.from(readTorchCheckpoint(path).get('x')!.data as Float32Array)).toEqual([1.25, -7]);
  });

  it('rejects a view that reaches past its storage, naming the key', () => {
    const path = join(dir, 'oob.pth');
    writeFileSync(
      path,
      torchZip(
        pickle(
          P.proto(),
          P.global('collections', 'OrderedDict'),
          P.emptyTuple(),
          P.reduce(),
          P.str('bad'),
          tensorOps('FloatStorage', '0', 12, 10, [3], [1]),
          P.setitem(),
          P.stop(),
        ),
        { '0': f32 },
      ),
    );
    expect(() => readTorchCheckpoint(path)).toThrow(/tensor 'bad' \[3\].*reaches element 12 of a storage of 12/);
  });
});
