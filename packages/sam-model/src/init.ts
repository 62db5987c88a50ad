/**
 * Seeded random SAM weights for a config: what `pnpm demo` uses when no official checkpoint is
 * cached, and what the benchmarks use for sizes we have no file of (ViT-B/L/H). Deterministic for a
 * seed. Initialisation follows torch defaults closely enough for well-scaled activations:
 * linear/conv weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)); norms weight 1, bias 0;
 * embeddings N(0,1); the random-Fourier matrix N(0,1); absolute/relative position tables N(0,0.02);
 * BatchNorm buffers mean 0, var 1; TinyViT `attention_bias_idxs` computed as the official code does.
 */
import type { HostTensor, WeightMap } from '@samtune/tensor';
import { numel } from '@samtune/tensor';

/** mulberry32: a small, fast, seedable PRNG with uniform output in [0,1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/**
 * TinyViT's `attention_bias_idxs` for a `res x res` window: `[N,N]` (N = res*res), index of the
 * offset (|dy|,|dx|) in first-seen order, as in the official `Attention.__init__`.
 */
export function tinyVitAttentionBiasIdxs(res: number): HostTensor<'int64'> {
  const n = res * res;
  const offsets = new Map<number, number>();
  const data = new BigInt64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const off = Math.abs(Math.floor(i / res) - Math.floor(j / res)) * res + Math.abs((i % res) - (j % res));
      let idx = offsets.get(off);
      if (idx === undefined) {
        idx = offsets.size;
        offsets.set(off, idx);
      }
      data[i * n + j] = BigInt(idx);
    }
  }
  return { dtype: 'int64', shape: [n, n], data };
}

const NORM_RE =
  /(^|\.)(norm\w*|ln\w*|bn|neck\.[13]|output_upscaling\.1|mask_downscaling\.[14]|norm_final_attn)\.(weight|bias)$/;
const EMBED_RE = /(iou_token|mask_tokens|point_embeddings\.\d+|not_a_point_embed|no_mask_embed)\.weight$/;

/** One tensor's seeded initial value, chosen by its checkpoint key and shape. */
function initTensor(key: string, shape: readonly number[], rand: () => number): HostTensor {
  const n = numel(shape);
  if (key.endsWith('num_batches_tracked')) return { dtype: 'int64', shape, data: new BigInt64Array(n) };
  if (key.endsWith('attention_bias_idxs')) {
    const res = Math.round(Math.sqrt(shape[0] ?? 0));
    return tinyVitAttentionBiasIdxs(res);
  }
  const data = new Float32Array(n);
  const fill = (f: () => number) => {
    for (let i = 0; i < n; i++) data[i] = f();
  };
  if (key.endsWith('running_var')) fill(() => 1);
  else if (key.endsWith('running_mean')) fill(() => 0);
  else if (NORM_RE.test(key) || (shape.length === 1 && /\.(bn|norm\d?)\./.test(key)))
    fill(() => (key.endsWith('weight') ? 1 : 0));
  else if (EMBED_RE.test(key) || key.endsWith('positional_encoding_gaussian_matrix')) fill(() => normal(rand));
  else if (key.endsWith('pos_embed') || /rel_pos_[hw]$/.test(key) || key.endsWith('attention_biases'))
    fill(() => 0.02 * normal(rand));
  else {
    // weight [out, in, ...] or bias [out]: fan_in = in * kernel area (ConvTranspose [in,out,k,k] uses out*k*k as torch does)
    const fanIn = shape.length >= 2 ? numel(shape.slice(1)) : Math.max(1, shape[0] ?? 1);
    const bound = 1 / Math.sqrt(fanIn);
    fill(() => (rand() * 2 - 1) * bound);
  }
  return { dtype: 'float32', shape, data };
}

/** Seeded weights for every key of `shapes` (from `expectedShapes(config)`), in key order. */
export function initWeightsFromShapes(shapes: ReadonlyMap<string, readonly number[]>, seed: number): WeightMap {
  const rand = mulberry32(seed);
  const out: WeightMap = new Map();
  for (const [key, shape] of shapes) out.set(key, initTensor(key, [...shape], rand));
  return out;
}
