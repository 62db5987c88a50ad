/**
 * Build-time constants of the image encoders. Everything here depends only on the fixed input size
 * and the frozen weights, so it is computed once on the host and the forward pass only reads it
 * with `ops.param`:
 * - TinyViT `Conv2d_BN`: BatchNorm (eval, eps 1e-5) folded into the conv -> `<m>.fused.weight|bias`.
 * - TinyViT attention: `attention_biases[:, attention_bias_idxs]` -> `<attn>.ab` `[heads,N,N]`.
 * - ViT decomposed relative positions: `get_rel_pos(q, k, rel_pos_h|w)` -> `<attn>.rel_pos_h|w.table`
 *   `[q,k,headDim]` for the sizes actually used (the window, or the full grid for global blocks).
 */
import type { ImageEncoderConfig, TinyVitConfig, VitConfig } from '../config.js';
import type { FloatTensor, HostTensor, WeightMap } from '@samtune/tensor';
import { numel, toFloat32 } from '@samtune/tensor';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Checkpoint key prefix of the image encoder. */
export const IMAGE_ENCODER_PREFIX = 'image_encoder.';

/** BatchNorm2d eps of TinyViT's `Conv2d_BN` (torch default). */
export const BATCH_NORM_EPS = 1e-5;

/** Thrown when a weight the encoder needs is missing or has the wrong shape. */
export class ImageEncoderWeightError extends SamtuneError {
  readonly code: string = 'image-encoder-weight';
  readonly kind: ErrorKind = 'input';
}

/**
 * Thrown when a relative-position table does not have `2*max(q,k)-1` rows: the official code would
 * resize it (`F.interpolate(mode='linear')`), which no supported configuration needs at 1024 input.
 */
export class RelPosInterpolationError extends SamtuneError {
  readonly code: string = 'rel-pos-interpolation';
  readonly kind: ErrorKind = 'input';
}

/** Derived keys of a folded `Conv2d_BN` module at `prefix` (ends with '.'). */
export function fusedConvKeys(prefix: string): { weight: string; bias: string } {
  return { weight: `${prefix}fused.weight`, bias: `${prefix}fused.bias` };
}

/** Derived key of a TinyViT attention's gathered bias `[heads,N,N]` (`attnPrefix` ends with '.'). */
export function attentionBiasKey(attnPrefix: string): string {
  return `${attnPrefix}ab`;
}

/** Derived key of a ViT attention's gathered relative-position table `[q,k,headDim]`. */
export function relPosTableKey(attnPrefix: string, axis: 'h' | 'w'): string {
  return `${attnPrefix}rel_pos_${axis}.table`;
}

function getFloat(weights: WeightMap, key: string, expected?: readonly (number | undefined)[]): FloatTensor {
  const t: HostTensor | undefined = weights.get(key);
  if (!t) {
    const shape = expected ? ` (expected shape [${expected.map((d) => d ?? '?').join(',')}])` : '';
    throw new ImageEncoderWeightError(`prepareImageEncoderWeights(config, weights): missing weight '${key}'${shape}`);
  }
  if (
    expected &&
    (t.shape.length !== expected.length || expected.some((d, i) => d !== undefined && d !== t.shape[i]))
  ) {
    throw new ImageEncoderWeightError(
      `prepareImageEncoderWeights(config, weights): weight '${key}' has shape [${t.shape.join(',')}], expected [${expected.map((d) => d ?? '?').join(',')}]`,
    );
  }
  return toFloat32(t);
}

/**
 * Folds eval-mode BatchNorm into the bias-free conv of a `Conv2d_BN` at `prefix`:
 * `w' = w * g/sqrt(var+eps)`, `b' = beta - mean * g/sqrt(var+eps)` (computed in float64).
 */
export function foldConvBatchNorm(
  weights: WeightMap,
  prefix: string,
  eps = BATCH_NORM_EPS,
): { weight: FloatTensor; bias: FloatTensor } {
  const w = getFloat(weights, `${prefix}c.weight`);
  const cout = w.shape[0] as number;
  const gamma = getFloat(weights, `${prefix}bn.weight`, [cout]).data;
  const beta = getFloat(weights, `${prefix}bn.bias`, [cout]).data;
  const mean = getFloat(weights, `${prefix}bn.running_mean`, [cout]).data;
  const variance = getFloat(weights, `${prefix}bn.running_var`, [cout]).data;
  const per = numel(w.shape) / cout;
  const fw = new Float32Array(w.data.length);
  const fb = new Float32Array(cout);
  for (let o = 0; o < cout; o++) {
    const s = (gamma[o] as number) / Math.sqrt((variance[o] as number) + eps);
    for (let i = o * per; i < (o + 1) * per; i++) fw[i] = (w.data[i] as number) * s;
    fb[o] = (beta[o] as number) - (mean[o] as number) * s;
  }
  return {
    weight: { dtype: 'float32', shape: w.shape, data: fw },
    bias: { dtype: 'float32', shape: [cout], data: fb },
  };
}

/**
 * TinyViT's `attention_bias_idxs` for a `(res,res)` window: for every query/key point pair, the index
 * of the offset `(|dy|,|dx|)` in first-seen order over `itertools.product` (row-major). Returns `[N*N]`.
 */
export function attentionBiasIndices(res: number): Int32Array {
  const n = res * res;
  const offsets = new Map<number, number>();
  const idxs = new Int32Array(n * n);
  for (let p1 = 0; p1 < n; p1++) {
    for (let p2 = 0; p2 < n; p2++) {
      const key = Math.abs(Math.floor(p1 / res) - Math.floor(p2 / res)) * res + Math.abs((p1 % res) - (p2 % res));
      let idx = offsets.get(key);
      if (idx === undefined) {
        idx = offsets.size;
        offsets.set(key, idx);
      }
      idxs[p1 * n + p2] = idx;
    }
  }
  return idxs;
}

/** `attention_biases [heads, numOffsets]` gathered to `[heads, N, N]` for a `(res,res)` window. */
export function gatherAttentionBiases(biases: FloatTensor, res: number, key = 'attention_biases'): FloatTensor {
  const [heads, numOffsets] = biases.shape as [number, number];
  const n = res * res;
  const idxs = attentionBiasIndices(res);
  let maxIdx = 0;
  for (const i of idxs) maxIdx = Math.max(maxIdx, i);
  if (biases.shape.length !== 2 || numOffsets !== maxIdx + 1) {
    throw new ImageEncoderWeightError(
      `gatherAttentionBiases(biases, res=${res}): '${key}' has shape [${biases.shape.join(',')}], expected [heads,${maxIdx + 1}] for a ${res}x${res} window`,
    );
  }
  const out = new Float32Array(heads * n * n);
  for (let h = 0; h < heads; h++) {
    const row = h * numOffsets;
    const base = h * n * n;
    for (let i = 0; i < n * n; i++) out[base + i] = biases.data[row + (idxs[i] as number)] as number;
  }
  return { dtype: 'float32', shape: [heads, n, n], data: out };
}

/**
 * segment-anything's `get_rel_pos(q_size, k_size, rel_pos)`: `rel_pos [L,C]` -> `[q,k,C]` with
 * `out[i,j] = rel_pos[floor(i*max(k/q,1) - j*max(q/k,1) + (k-1)*max(q/k,1))]`.
 * Throws `RelPosInterpolationError` when `L != 2*max(q,k)-1` (the official interpolation branch).
 */
export function gatherRelPos(relPos: FloatTensor, qSize: number, kSize: number, key = 'rel_pos'): FloatTensor {
  const [len, c] = relPos.shape as [number, number];
  const maxRelDist = 2 * Math.max(qSize, kSize) - 1;
  if (relPos.shape.length !== 2 || len !== maxRelDist) {
    throw new RelPosInterpolationError(
      `gatherRelPos(relPos, q=${qSize}, k=${kSize}): '${key}' has shape [${relPos.shape.join(',')}], expected [${maxRelDist},C]; ` +
        'resizing relative positions (get_rel_pos interpolation) is not implemented',
    );
  }
  const qScale = Math.max(kSize / qSize, 1);
  const kScale = Math.max(qSize / kSize, 1);
  const out = new Float32Array(qSize * kSize * c);
  for (let i = 0; i < qSize; i++) {
    for (let j = 0; j < kSize; j++) {
      const r = Math.trunc(i * qScale - j * kScale + (kSize - 1) * kScale);
      out.set(relPos.data.subarray(r * c, (r + 1) * c), (i * kSize + j) * c);
    }
  }
  return { dtype: 'float32', shape: [qSize, kSize, c], data: out };
}

/** Prefixes of every `Conv2d_BN` module of a TinyViT encoder. */
export function tinyVitConvBnPrefixes(config: TinyVitConfig, prefix = IMAGE_ENCODER_PREFIX): string[] {
  const out = [`${prefix}patch_embed.seq.0.`, `${prefix}patch_embed.seq.2.`];
  const stages = config.depths.length;
  for (let s = 0; s < stages; s++) {
    const layer = `${prefix}layers.${s}.`;
    for (let b = 0; b < (config.depths[s] as number); b++) {
      const block = `${layer}blocks.${b}.`;
      if (s === 0) out.push(`${block}conv1.`, `${block}conv2.`, `${block}conv3.`);
      else out.push(`${block}local_conv.`);
    }
    if (s < stages - 1) out.push(`${layer}downsample.conv1.`, `${layer}downsample.conv2.`, `${layer}downsample.conv3.`);
  }
  return out;
}

function prepareTinyVit(config: TinyVitConfig, weights: WeightMap, out: WeightMap, prefix: string): void {
  for (const p of tinyVitConvBnPrefixes(config, prefix)) {
    const { weight, bias } = foldConvBatchNorm(weights, p);
    const keys = fusedConvKeys(p);
    out.set(keys.weight, weight);
    out.set(keys.bias, bias);
  }
  for (let s = 1; s < config.depths.length; s++) {
    const window = config.windowSizes[s] as number;
    const heads = config.numHeads[s] as number;
    for (let b = 0; b < (config.depths[s] as number); b++) {
      const attn = `${prefix}layers.${s}.blocks.${b}.attn.`;
      const key = `${attn}attention_biases`;
      const biases = getFloat(weights, key, [heads, undefined]);
      out.set(attentionBiasKey(attn), gatherAttentionBiases(biases, window, key));
    }
  }
}

/** (q,k) side of the attention in ViT block `i`: the window, or the full patch grid for global blocks. */
export function vitAttentionSize(config: VitConfig, block: number): number {
  const global = config.windowSize <= 0 || config.globalAttnIndexes.includes(block);
  return global ? config.imgSize / config.patchSize : config.windowSize;
}

function prepareVit(config: VitConfig, weights: WeightMap, out: WeightMap, prefix: string): void {
  if (!config.useRelPos) return;
  const headDim = config.embedDim / config.numHeads;
  for (let i = 0; i < config.depth; i++) {
    const attn = `${prefix}blocks.${i}.attn.`;
    const size = vitAttentionSize(config, i);
    for (const axis of ['h', 'w'] as const) {
      const key = `${attn}rel_pos_${axis}`;
      out.set(relPosTableKey(attn, axis), gatherRelPos(getFloat(weights, key, [undefined, headDim]), size, size, key));
    }
  }
}

/**
 * Returns a new map with every weight of `weights` plus the derived build-time keys the encoder's
 * forward reads (see the module comment). Idempotent; the input map is not modified.
 */
export function prepareImageEncoderWeights(
  config: ImageEncoderConfig,
  weights: WeightMap,
  prefix = IMAGE_ENCODER_PREFIX,
): WeightMap {
  const out: WeightMap = new Map(weights);
  if (config.kind === 'tiny_vit') prepareTinyVit(config, weights, out, prefix);
  else prepareVit(config, weights, out, prefix);
  return out;
}
