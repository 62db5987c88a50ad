/**
 * Prompt-encoder semantics on synthetic weights (tfjs wasm): the dense PE table equals the point
 * encoder at the grid centres and the closed form, labels select embeddings through equalScalar
 * masks exactly like the official indexing, padding/box/no-mask layout, and input errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_PROMPT_ENCODER as CFG } from './config.js';
import { initBackend } from './ops/backend.js';
import { TfjsOps } from './ops/tfjs-ops.js';
import {
  DENSE_PE_KEY,
  PE_GAUSSIAN_KEY,
  PromptShapeError,
  embedBoxes,
  embedPoints,
  encodeCoords,
  preparePromptEncoderWeights,
  promptEncoder,
} from './prompt-encoder.js';
import type { FloatTensor, WeightMap } from '@samtune/tensor';
import { floatTensor } from '@samtune/tensor';

let seed = 7;
function randn(shape: number[]): FloatTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, () => {
    seed = (seed * 16807) % 2147483647;
    const u = seed / 2147483647;
    seed = (seed * 16807) % 2147483647;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * (seed / 2147483647));
  });
  return floatTensor(data, shape);
}

const host: WeightMap = new Map<string, FloatTensor>([
  [PE_GAUSSIAN_KEY, randn([2, 128])],
  ['prompt_encoder.not_a_point_embed.weight', randn([1, 256])],
  ['prompt_encoder.no_mask_embed.weight', randn([1, 256])],
  ...[0, 1, 2, 3].map((i) => [`prompt_encoder.point_embeddings.${i}.weight`, randn([1, 256])] as [string, FloatTensor]),
  ['prompt_encoder.mask_downscaling.0.weight', randn([4, 1, 2, 2])],
  ['prompt_encoder.mask_downscaling.0.bias', randn([4])],
  ['prompt_encoder.mask_downscaling.1.weight', randn([4])],
  ['prompt_encoder.mask_downscaling.1.bias', randn([4])],
  ['prompt_encoder.mask_downscaling.3.weight', randn([16, 4, 2, 2])],
  ['prompt_encoder.mask_downscaling.3.bias', randn([16])],
  ['prompt_encoder.mask_downscaling.4.weight', randn([16])],
  ['prompt_encoder.mask_downscaling.4.bias', randn([16])],
  ['prompt_encoder.mask_downscaling.6.weight', randn([256, 16, 1, 1])],
  ['prompt_encoder.mask_downscaling.6.bias', randn([256])],
]);
const derived = preparePromptEncoderWeights(CFG, host);
let tensors: Map<string, tf.Tensor>;
let ops: TfjsOps;

beforeAll(async () => {
  await initBackend('wasm');
  tensors = new Map([...host, ...derived].map(([k, t]) => [k, tf.tensor(t.data as Float32Array, [...t.shape])]));
  ops = new TfjsOps(tensors);
});
afterAll(() => {
  for (const t of tensors.values()) t.dispose();
});

const w = (key: string): Float32Array => host.get(key)?.data as Float32Array;
const rowOf = (data: Float32Array | Int32Array | Uint8Array, r: number): number[] =>
  Array.from(data.slice(r * 256, (r + 1) * 256));

describe('preparePromptEncoderWeights', () => {
  it('builds get_dense_pe(): the closed form, and the point encoder evaluated at the 16-px grid centres', () => {
    const pe = derived.get(DENSE_PE_KEY);
    expect(pe?.shape).toEqual([1, 256, 64, 64]);
    const d = pe?.data as Float32Array;
    const g = w(PE_GAUSSIAN_KEY);
    const [i, j, c] = [5, 40, 17];
    const arg =
      2 * Math.PI * ((2 * (j + 0.5)) / 64 - 1) * (g[c] as number) +
      2 * Math.PI * ((2 * (i + 0.5)) / 64 - 1) * (g[128 + c] as number);
    expect(d[(c * 64 + i) * 64 + j]).toBeCloseTo(Math.sin(arg), 5);
    expect(d[((128 + c) * 64 + i) * 64 + j]).toBeCloseTo(Math.cos(arg), 5);

    const viaOps = tf.tidy(() => {
      const centres = new Float32Array(64 * 64 * 2);
      for (let y = 0; y < 64; y++)
        for (let x = 0; x < 64; x++) centres.set([(x + 0.5) * 16, (y + 0.5) * 16], (y * 64 + x) * 2);
      const enc = encodeCoords(ops, CFG, tf.tensor(centres, [1, 4096, 2]));
      return tf.transpose(tf.reshape(enc, [64, 64, 256]), [2, 0, 1]).dataSync();
    });
    let worst = 0;
    for (let k = 0; k < d.length; k++) worst = Math.max(worst, Math.abs((viaOps[k] as number) - (d[k] as number)));
    expect(worst).toBeLessThan(2e-5);
  });

  it('rejects a Gaussian matrix of the wrong shape', () => {
    const bad: WeightMap = new Map([[PE_GAUSSIAN_KEY, randn([3, 128])]]);
    expect(() => preparePromptEncoderWeights(CFG, bad)).toThrow(/must be float32 \[2,128\], got float32 \[3,128\]/);
    expect(() => preparePromptEncoderWeights(CFG, new Map())).toThrow(PromptShapeError);
  });
});

describe('embedPoints / embedBoxes / promptEncoder', () => {
  it('selects embeddings by label like the official indexing (-1 -> not_a_point only; 0..3 -> pe + point_embeddings.i)', () => {
    const xy = [100, 200, 300, 50, 7, 9, 600, 700, 900, 1000];
    const labels = [1, 0, -1, 2, 3];
    tf.tidy(() => {
      const emb = embedPoints(
        ops,
        CFG,
        tf.tensor(xy, [1, 5, 2]),
        tf.tensor(labels, [1, 5]),
        false,
      ).dataSync() as Float32Array;
      const pe = encodeCoords(
        ops,
        CFG,
        tf.tensor(
          xy.map((v) => v + 0.5),
          [1, 5, 2],
        ),
      ).dataSync() as Float32Array;
      expect(rowOf(emb, 2)).toEqual(Array.from(w('prompt_encoder.not_a_point_embed.weight')));
      for (const r of [0, 1, 3, 4]) {
        const pi = w(`prompt_encoder.point_embeddings.${labels[r]}.weight`);
        expect(rowOf(emb, r)).toEqual(rowOf(pe, r).map((v, k) => Math.fround(v + (pi[k] as number))));
      }
      // A box is the same as its two corners given as points labelled 2 and 3.
      const box = embedBoxes(ops, CFG, tf.tensor([[600, 700, 900, 1000]])).dataSync() as Float32Array;
      expect(Array.from(box)).toEqual([...rowOf(emb, 3), ...rowOf(emb, 4)]);
    });
  });

  it('appends the padding point without a box, boxes after points, and broadcasts no_mask_embed', () => {
    tf.tidy(() => {
      const coords = tf.tensor([
        [
          [10, 20],
          [30, 40],
        ],
      ]);
      const labels = tf.tensor([[1, 0]]);
      const padded = promptEncoder(ops, CFG, { coords, labels, padPoints: true });
      expect(padded.sparse.shape).toEqual([1, 3, 256]);
      expect(rowOf(padded.sparse.dataSync() as Float32Array, 2)).toEqual(
        Array.from(w('prompt_encoder.not_a_point_embed.weight')),
      );
      expect(padded.dense.shape).toEqual([1, 256, 64, 64]);
      const dense = padded.dense.dataSync();
      const nm = w('prompt_encoder.no_mask_embed.weight');
      expect([dense[0], dense[4095], dense[4096 * 255 + 77]]).toEqual([nm[0], nm[0], nm[255]]);

      const both = promptEncoder(ops, CFG, { coords, labels, boxes: tf.tensor([[1, 2, 3, 4]]), padPoints: false });
      expect(both.sparse.shape).toEqual([1, 4, 256]);
      const none = promptEncoder(ops, CFG, { padPoints: false });
      expect(none.sparse.shape).toEqual([1, 0, 256]);
      const masks = promptEncoder(ops, CFG, {
        boxes: tf.zeros([2, 4]),
        masks: tf.zeros([2, 1, 256, 256]),
        padPoints: false,
      });
      expect(masks.sparse.shape).toEqual([2, 2, 256]);
      expect(masks.dense.shape).toEqual([2, 256, 64, 64]);
      const boxesOnly = promptEncoder(ops, CFG, { boxes: tf.zeros([3, 4]), padPoints: false });
      expect(boxesOnly.dense.shape).toEqual([3, 256, 64, 64]);
    });
  });

  it('rejects coords without labels and malformed prompt shapes', () => {
    tf.tidy(() => {
      expect(() => promptEncoder(ops, CFG, { coords: tf.zeros([1, 2, 2]), padPoints: true })).toThrow(
        /coords and labels must be given together/,
      );
      expect(() => embedPoints(ops, CFG, tf.zeros([1, 2, 3]), tf.zeros([1, 2]), true)).toThrow(
        /expected coords \[B,N,2\] and labels \[B,N\], got \[1,2,3\]/,
      );
      expect(() => embedBoxes(ops, CFG, tf.zeros([1, 2, 2]))).toThrow(PromptShapeError);
    });
  });
});
