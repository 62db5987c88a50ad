/**
 * (1) `attention` against a naive loop implementation on small random tensors (tfjs wasm).
 * (2) The whole prompt path (promptEncoder -> maskDecoder -> postprocessMasks) traced by a
 *     shape-only executor with a DYNAMIC number of points (-1), as the ONNX export does: every
 *     reshape has at most one -1, no tensor value is read, and the outputs have the official shapes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readTorchCheckpoint } from '@samtune/tensor-files';
import { DEFAULT_MASK_DECODER, DEFAULT_PROMPT_ENCODER } from './config.js';
import { ParamScope } from './layers.js';
import { maskDecoder } from './mask-decoder.js';
import { initBackend } from './ops/backend.js';
import { TfjsOps } from './ops/tfjs-ops.js';
import { postprocessMasks } from './postprocess.js';
import { DENSE_PE_KEY, densePe, preparePromptEncoderWeights, promptEncoder } from './prompt-encoder.js';
import { ShapeOps, ShapeOpsError } from './test-utils/shape-ops.js';
import { referencePath } from './test-utils/fixtures.js';
import { attention } from './two-way-transformer.js';

beforeAll(async () => {
  await initBackend('wasm');
});

function rand(n: number, seed: number): Float32Array {
  let x = seed;
  return Float32Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648 - 0.5;
  });
}

/** y = x W^T + b on row-major host arrays. */
function lin(x: Float32Array, rows: number, w: Float32Array, b: Float32Array, out: number, inn: number): Float32Array {
  const y = new Float32Array(rows * out);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < out; o++) {
      let acc = b[o] as number;
      for (let i = 0; i < inn; i++) acc += (x[r * inn + i] as number) * (w[o * inn + i] as number);
      y[r * out + o] = acc;
    }
  }
  return y;
}

describe('attention', () => {
  it('equals softmax(q k^T / sqrt(d)) v per head with q/k/v/out projections (downsampled inner dim)', () => {
    const [c, inner, heads, nq, nk] = [8, 4, 2, 3, 5];
    const host = new Map<string, Float32Array>();
    const shapes: Record<string, number[]> = {};
    let seed = 1;
    for (const [name, o, i] of [
      ['q_proj', inner, c],
      ['k_proj', inner, c],
      ['v_proj', inner, c],
      ['out_proj', c, inner],
    ] as const) {
      host.set(`a.${name}.weight`, rand(o * i, seed++));
      shapes[`a.${name}.weight`] = [o, i];
      host.set(`a.${name}.bias`, rand(o, seed++));
      shapes[`a.${name}.bias`] = [o];
    }
    const q = rand(nq * c, 11);
    const k = rand(nk * c, 12);
    const v = rand(nk * c, 13);
    const get = (key: string): Float32Array => host.get(key) ?? new Float32Array();

    const qp = lin(q, nq, get('a.q_proj.weight'), get('a.q_proj.bias'), inner, c);
    const kp = lin(k, nk, get('a.k_proj.weight'), get('a.k_proj.bias'), inner, c);
    const vp = lin(v, nk, get('a.v_proj.weight'), get('a.v_proj.bias'), inner, c);
    const d = inner / heads;
    const mixed = new Float32Array(nq * inner);
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < nq; i++) {
        const logits = Array.from({ length: nk }, (_, j) => {
          let acc = 0;
          for (let e = 0; e < d; e++)
            acc += (qp[i * inner + h * d + e] as number) * (kp[j * inner + h * d + e] as number);
          return acc / Math.sqrt(d);
        });
        const mx = Math.max(...logits);
        const ex = logits.map((l) => Math.exp(l - mx));
        const sum = ex.reduce((a, b) => a + b, 0);
        for (let e = 0; e < d; e++) {
          mixed[i * inner + h * d + e] = ex.reduce(
            (acc, p, j) => acc + (p / sum) * (vp[j * inner + h * d + e] as number),
            0,
          );
        }
      }
    }
    const want = lin(mixed, nq, get('a.out_proj.weight'), get('a.out_proj.bias'), c, inner);

    const got = tf.tidy(() => {
      const ops = new TfjsOps(new Map([...host].map(([key, data]) => [key, tf.tensor(data, shapes[key])])));
      const out = attention(
        new ParamScope(ops, 'a.'),
        tf.tensor(q, [1, nq, c]),
        tf.tensor(k, [1, nk, c]),
        tf.tensor(v, [1, nk, c]),
        heads,
        inner,
      );
      expect(out.shape).toEqual([1, nq, c]);
      return out.dataSync();
    });
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i] as number, 5);
  });
});

describe('symbolic trace with a dynamic number of points', () => {
  it('gives the official shapes with N = -1 and keeps every reshape to at most one -1', () => {
    const weights = readTorchCheckpoint(referencePath('vit_mini.pth'));
    const shapes = new Map<string, readonly number[]>();
    for (const [k, t] of [...weights, ...preparePromptEncoderWeights(DEFAULT_PROMPT_ENCODER, weights)])
      shapes.set(k, t.shape);
    expect(shapes.get(DENSE_PE_KEY)).toEqual([1, 256, 64, 64]);
    const ops = new ShapeOps(shapes);
    const coords = { shape: [1, -1, 2] };
    const labels = { shape: [1, -1] };
    for (const padPoints of [false, true]) {
      const { sparse, dense } = promptEncoder(ops, DEFAULT_PROMPT_ENCODER, {
        coords,
        labels,
        masks: { shape: [1, 1, 256, 256] },
        padPoints,
      });
      expect(sparse.shape).toEqual([1, -1, 256]);
      expect(dense.shape).toEqual([1, 256, 64, 64]);
      for (const multimaskOutput of [true, false]) {
        const m = multimaskOutput ? 3 : 1;
        const out = maskDecoder(ops, DEFAULT_MASK_DECODER, {
          imageEmbeddings: { shape: [1, 256, 64, 64] },
          imagePe: densePe(ops),
          sparse,
          dense,
          multimaskOutput,
        });
        expect(out.masks.shape).toEqual([1, m, 256, 256]);
        expect(out.iou.shape).toEqual([1, m]);
        expect(postprocessMasks(ops, out.masks, [684, 1024], [534, 800]).shape).toEqual([1, m, 534, 800]);
      }
    }
    expect(ops.log.filter((l) => l.startsWith('reshape')).length).toBeGreaterThan(10);
    expect(() => ops.reshape({ shape: [1, -1, 4] }, [-1, -1])).toThrow(ShapeOpsError);

    // Boxes and the no-mask embedding with a static batch of 3.
    const { sparse, dense } = promptEncoder(ops, DEFAULT_PROMPT_ENCODER, {
      boxes: { shape: [3, 4] },
      padPoints: false,
    });
    expect(sparse.shape).toEqual([3, 2, 256]);
    expect(dense.shape).toEqual([3, 256, 64, 64]);
  });
});
