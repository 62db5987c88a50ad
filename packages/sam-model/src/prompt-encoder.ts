/**
 * SAM's prompt encoder (official `modeling/prompt_encoder.py`), written once against `Ops<T>`.
 *
 * Frame: every coordinate here is in the 1024 input frame (after ResizeLongestSide, before the +0.5
 * pixel-centre shift, which this encoder applies), XY order, pixel units.
 * Labels are tensors (`1` foreground, `0` background, `2`/`3` box top-left/bottom-right corner,
 * `-1` padding/not-a-point) and are turned into 0/1 masks with `equalScalar`, like the official ONNX
 * export, so the forward never branches on label values nor reads tensor values. The number of
 * points N may be dynamic (`-1`) for the ONNX executor; the batch B must then be static.
 */
import type { PromptEncoderConfig } from './config.js';
import { ParamScope, conv2d, layerNorm2d } from './layers.js';
import type { Ops, FloatTensor, WeightMap } from '@samtune/tensor';
import { floatTensor } from '@samtune/tensor';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Checkpoint prefix of the prompt encoder. */
export const PROMPT_ENCODER_PREFIX = 'prompt_encoder.';
/** Key of the Gaussian frequency matrix `[2, embedDim/2]` of `PositionEmbeddingRandom`. */
export const PE_GAUSSIAN_KEY = 'prompt_encoder.pe_layer.positional_encoding_gaussian_matrix';
/**
 * Derived key (not in checkpoints) of `get_dense_pe()`: `[1, embedDim, 64, 64]`, the positional
 * encoding of the embedding grid's cell centres. Made by `preparePromptEncoderWeights`.
 */
export const DENSE_PE_KEY = 'prompt_encoder.dense_pe';

/** Number of learned point embeddings: negative, positive point, box corner 1, box corner 2. */
export const NUM_POINT_EMBEDDINGS = 4;

/** Thrown for prompt tensors of the wrong rank/shape, or a missing weight needed at build time. */
export class PromptShapeError extends SamtuneError {
  readonly code: string = 'prompt-shape';
  readonly kind: ErrorKind = 'input';
}

function gaussianMatrix(weights: WeightMap, embedDim: number): FloatTensor {
  const g = weights.get(PE_GAUSSIAN_KEY);
  const half = embedDim / 2;
  if (!g || g.dtype !== 'float32' || g.shape.length !== 2 || g.shape[0] !== 2 || g.shape[1] !== half) {
    const got = g ? `${g.dtype} [${g.shape.join(',')}]` : 'missing';
    throw new PromptShapeError(
      `preparePromptEncoderWeights(weights): '${PE_GAUSSIAN_KEY}' must be float32 [2,${half}], got ${got}`,
    );
  }
  return g as FloatTensor;
}

/**
 * `PositionEmbeddingRandom.forward(image_embedding_size)` as `[1, C, H, W]`, computed on the host:
 * cell centres `((j+0.5)/W, (i+0.5)/H)` mapped to `[-1,1]`, projected by the Gaussian matrix,
 * times 2π, then `[sin, cos]` on the channel axis. Float32 rounding at each step like torch.
 */
export function densePositionalEncoding(gaussian: FloatTensor, size: readonly [number, number]): FloatTensor {
  const [h, w] = size;
  const half = gaussian.shape[1] as number;
  const g = gaussian.data;
  const out = new Float32Array(2 * half * h * w);
  const f = Math.fround;
  const twoPi = f(2 * Math.PI);
  for (let i = 0; i < h; i++) {
    const y = f(f(2 * f(f(i + 0.5) / h)) - 1);
    for (let j = 0; j < w; j++) {
      const x = f(f(2 * f(f(j + 0.5) / w)) - 1);
      for (let c = 0; c < half; c++) {
        const proj = f(f(x * (g[c] as number)) + f(y * (g[half + c] as number)));
        const arg = f(twoPi * proj);
        out[(c * h + i) * w + j] = Math.sin(arg);
        out[((half + c) * h + i) * w + j] = Math.cos(arg);
      }
    }
  }
  return floatTensor(out, [1, 2 * half, h, w]);
}

/**
 * Frozen tensors derived from the checkpoint at build time, to be merged into the executor's weight
 * map: `prompt_encoder.dense_pe` `[1, embedDim, H/16, W/16]` (official `get_dense_pe()`).
 * Returns only the derived entries.
 */
export function preparePromptEncoderWeights(config: PromptEncoderConfig, weights: WeightMap): WeightMap {
  const pe = densePositionalEncoding(gaussianMatrix(weights, config.embedDim), config.imageEmbeddingSize);
  return new Map([[DENSE_PE_KEY, pe]]);
}

/** Static batch size of `x` (its first dim); throws if it is dynamic. */
function staticBatch<T>(ops: Ops<T>, x: T, fn: string, arg: string): number {
  const b = ops.shape(x)[0];
  if (b === undefined || b < 0) {
    throw new PromptShapeError(`${fn}(${arg}): the batch dim must be static, got shape [${ops.shape(x).join(',')}]`);
  }
  return b;
}

/**
 * `x [1, ...]` repeated to `[b, ...]` along axis 0 (torch `expand`/`repeat_interleave` for one image).
 * Differentiable (concat of copies); `b` must be static.
 */
export function broadcastBatch<T>(ops: Ops<T>, x: T, b: number): T {
  if (b === 1) return x;
  if (!Number.isInteger(b) || b < 1) {
    throw new PromptShapeError(`broadcastBatch(x, b): b must be a static positive integer, got ${b}`);
  }
  return ops.concat(
    Array.from({ length: b }, () => x),
    0,
  );
}

/**
 * `PositionEmbeddingRandom.forward_with_coords` on `coords [B,N,2]` already shifted to pixel centres
 * (XY, 1024 frame): normalise by the input size, map to `[-1,1]`, project, `[sin, cos]` -> `[B,N,C]`.
 */
export function encodeCoords<T>(ops: Ops<T>, cfg: PromptEncoderConfig, coords: T): T {
  const [inH, inW] = cfg.inputImageSize;
  const norm = ops.div(coords, ops.constant(new Float32Array([inW, inH]), [2], 'pe_input_size'));
  const centred = ops.addScalar(ops.scale(norm, 2), -1);
  const g = ops.param(PE_GAUSSIAN_KEY);
  const proj = ops.scale(ops.matmul(centred, ops.reshape(g, [1, 2, cfg.embedDim / 2])), 2 * Math.PI);
  return ops.concat([ops.sin(proj), ops.cos(proj)], 2);
}

/**
 * Official `_embed_points` (ONNX-export form): `coords [B,N,2]` (1024 frame, unshifted),
 * `labels [B,N]` -> `[B,N(+1),C]`. With `pad`, a point `(0,0)` labelled `-1` is appended (the official
 * behaviour when points come without a box). Label `-1` rows become `not_a_point_embed`; label `i`
 * in 0..3 adds `point_embeddings.i` (2/3 are the box corners, so boxes may also be passed as points).
 */
export function embedPoints<T>(ops: Ops<T>, cfg: PromptEncoderConfig, coords: T, labels: T, pad: boolean): T {
  const cs = ops.shape(coords);
  const ls = ops.shape(labels);
  if (cs.length !== 3 || cs[2] !== 2 || ls.length !== 2) {
    throw new PromptShapeError(
      `embedPoints(coords, labels): expected coords [B,N,2] and labels [B,N], got [${cs.join(',')}] and [${ls.join(',')}]`,
    );
  }
  let pts = ops.addScalar(coords, 0.5);
  let lab = labels;
  if (pad) {
    // Zeros [B,1,2] and -1 [B,1] derived from the inputs (no constant of the batch's size).
    pts = ops.concat([pts, ops.scale(ops.slice(coords, 1, 0, 1), 0)], 1);
    lab = ops.concat([lab, ops.addScalar(ops.scale(ops.slice(labels, 1, 0, 1), 0), -1)], 1);
  }
  const lab3 = ops.reshape(lab, [staticBatch(ops, labels, 'embedPoints', 'labels'), -1, 1]);
  const pe = encodeCoords(ops, cfg, pts);
  const isPad = ops.equalScalar(lab3, -1);
  let emb = ops.sub(pe, ops.mul(pe, isPad));
  emb = ops.add(emb, ops.mul(ops.param('prompt_encoder.not_a_point_embed.weight'), isPad));
  for (let i = 0; i < NUM_POINT_EMBEDDINGS; i++) {
    emb = ops.add(emb, ops.mul(ops.param(`prompt_encoder.point_embeddings.${i}.weight`), ops.equalScalar(lab3, i)));
  }
  return emb;
}

/** Official `_embed_boxes`: `boxes [B,4]` XYXY (1024 frame) -> two corner tokens `[B,2,C]`. */
export function embedBoxes<T>(ops: Ops<T>, cfg: PromptEncoderConfig, boxes: T): T {
  const s = ops.shape(boxes);
  if (s.length !== 2 || s[1] !== 4) {
    throw new PromptShapeError(`embedBoxes(boxes): expected [B,4] XYXY, got [${s.join(',')}]`);
  }
  const corners = ops.reshape(ops.addScalar(boxes, 0.5), [-1, 2, 2]);
  const pe = encodeCoords(ops, cfg, corners);
  const cornerEmb = ops.concat(
    [ops.param('prompt_encoder.point_embeddings.2.weight'), ops.param('prompt_encoder.point_embeddings.3.weight')],
    0,
  );
  return ops.add(pe, cornerEmb);
}

/** Official `_embed_masks` (`mask_downscaling`): `masks [B,1,256,256]` logits -> `[B,C,64,64]`. */
export function embedMasks<T>(ops: Ops<T>, masks: T): T {
  const s = ops.shape(masks);
  if (s.length !== 4 || s[1] !== 1) {
    throw new PromptShapeError(`embedMasks(masks): expected [B,1,256,256], got [${s.join(',')}]`);
  }
  const p = new ParamScope(ops, `${PROMPT_ENCODER_PREFIX}mask_downscaling.`);
  let x = conv2d(p.child(0), masks, { stride: 2 });
  x = ops.gelu(layerNorm2d(p.child(1), x));
  x = conv2d(p.child(3), x, { stride: 2 });
  x = ops.gelu(layerNorm2d(p.child(4), x));
  return conv2d(p.child(6), x);
}

/** `no_mask_embed` broadcast to the dense grid: `[b, C, H/16, W/16]`. */
export function noMaskDense<T>(ops: Ops<T>, cfg: PromptEncoderConfig, b: number): T {
  const [h, w] = cfg.imageEmbeddingSize;
  const col = ops.reshape(ops.param('prompt_encoder.no_mask_embed.weight'), [1, cfg.embedDim, 1, 1]);
  const ones = ops.constant(new Float32Array(h * w).fill(1), [1, 1, h, w], 'no_mask_grid');
  return broadcastBatch(ops, ops.mul(col, ones), b);
}

/** The dense positional encoding `[1, C, 64, 64]` (`get_dense_pe()`), from the prepared weights. */
export function densePe<T>(ops: Ops<T>): T {
  return ops.param(DENSE_PE_KEY);
}

/** Prompts for `promptEncoder`, all in the 1024 input frame. */
export interface PromptInputs<T> {
  /** `[B,N,2]` XY pixels (unshifted). Needs `labels`. */
  readonly coords?: T;
  /** `[B,N]` float labels: 1 fg, 0 bg, 2/3 box corners, -1 padding. */
  readonly labels?: T;
  /** `[B,4]` XYXY pixels. */
  readonly boxes?: T;
  /** `[B,1,256,256]` low-res mask logits from an earlier prediction. */
  readonly masks?: T;
  /**
   * Append a padding point (label -1) to the points. The official `PromptEncoder.forward` does this
   * exactly when points are given without a box; pass `boxes === undefined` for that behaviour.
   */
  readonly padPoints: boolean;
}

/** Sparse and dense prompt embeddings. */
export interface PromptEmbeddings<T> {
  /** `[B, N', C]`: point tokens (then the padding token), then the two box-corner tokens. */
  readonly sparse: T;
  /** `[B, C, 64, 64]`: mask embedding or the broadcast `no_mask_embed`. */
  readonly dense: T;
}

/**
 * Official `PromptEncoder.forward`. B comes from the points, else the boxes, else the masks, else 1.
 * With neither points nor boxes, `sparse` is `[B,0,C]`.
 */
export function promptEncoder<T>(ops: Ops<T>, cfg: PromptEncoderConfig, inputs: PromptInputs<T>): PromptEmbeddings<T> {
  const { coords, labels, boxes, masks, padPoints } = inputs;
  if ((coords === undefined) !== (labels === undefined)) {
    throw new PromptShapeError('promptEncoder(inputs): coords and labels must be given together');
  }
  const first = coords ?? boxes ?? masks;
  const b =
    first === undefined ? 1 : staticBatch(ops, first, 'promptEncoder', coords ? 'coords' : boxes ? 'boxes' : 'masks');
  const parts: T[] = [];
  if (coords !== undefined && labels !== undefined) parts.push(embedPoints(ops, cfg, coords, labels, padPoints));
  if (boxes !== undefined) parts.push(embedBoxes(ops, cfg, boxes));
  let sparse: T;
  if (parts.length === 0) sparse = ops.constant(new Float32Array(0), [b, 0, cfg.embedDim], 'empty_sparse');
  else sparse = parts.length === 1 ? (parts[0] as T) : ops.concat(parts, 1);
  const dense = masks !== undefined ? embedMasks(ops, masks) : noMaskDense(ops, cfg, b);
  return { sparse, dense };
}
