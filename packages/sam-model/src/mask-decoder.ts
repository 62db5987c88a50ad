/**
 * SAM's mask decoder (official `modeling/mask_decoder.py`), written once against `Ops<T>`.
 * This is the part samtune trains: everything here is differentiable through `TfjsOps`
 * (no tensor reads, no branching on values).
 */
import type { MaskDecoderConfig } from './config.js';
import { ParamScope, layerNorm2d, mlp } from './layers.js';
import type { Ops } from '@samtune/tensor';
import { broadcastBatch } from './prompt-encoder.js';
import {
  flattenImageSide,
  transformerImageProjections,
  twoWayTransformer,
  twoWayTransformerOnImageSide,
  type TransformerImageSide,
  type TwoWayOptions,
  type TwoWayState,
} from './two-way-transformer.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Checkpoint prefix of the mask decoder (its tensors are the trainable ones). */
export const MASK_DECODER_PREFIX = 'mask_decoder.';

/** Thrown for decoder inputs of the wrong shape. */
export class MaskDecoderShapeError extends SamtuneError {
  readonly code: string = 'mask-decoder-shape';
  readonly kind: ErrorKind = 'input';
}

/** Inputs of `maskDecoder` / `predictMasks`. */
export interface MaskDecoderInputs<T> {
  /**
   * `[1, C, 64, 64]` image embedding, broadcast to every prompt (official `repeat_interleave` of one
   * image), or `[B, C, 64, 64]`: one embedding per prompt (a training batch over several images).
   */
  readonly imageEmbeddings: T;
  /** `[1, C, 64, 64]` dense positional encoding (`get_dense_pe()`). */
  readonly imagePe: T;
  /** `[B, N', C]` sparse prompt embeddings. */
  readonly sparse: T;
  /**
   * `[B, C, 64, 64]` dense prompt embeddings, or `[1, C, 64, 64]` shared by every prompt (no mask
   * input): with a `[1,…]` image embedding too, the transformer's first image-side projections
   * are then computed once per image instead of once per prompt (same values).
   */
  readonly dense: T;
}

/** Masks and IoU predictions of the decoder. */
export interface MaskDecoderOutputs<T> {
  /** `[B, M, 256, 256]` low-res mask logits (4x the embedding grid). */
  readonly masks: T;
  /** `[B, M]` predicted mask IoU. */
  readonly iou: T;
}

/**
 * How a decoder graph is recorded; every choice computes the official values.
 * - `upscale`: the mask head (default `upscaleMasks`);
 * - `reassociate`: `TwoWayOptions.reassociate`;
 * - `maskTokens`: `[start, end)` of the mask tokens (0 = the single-mask token) whose masks are
 *   computed; the others' hypernetwork MLPs are not recorded. Default all.
 */
export interface DecoderPlan<T> extends TwoWayOptions {
  readonly upscale?: MaskUpscaler<T>;
  readonly maskTokens?: readonly [number, number];
}

/**
 * Official `MaskDecoder.predict_masks`: all `numMultimaskOutputs + 1` masks.
 * Tokens are `[iou_token, mask_tokens…, sparse…]`; masks are the hypernetwork outputs of the mask
 * tokens dotted with the upscaled image features. Returns masks `[B,M+1,4h,4w]`, iou `[B,M+1]`.
 */
export function predictMasks<T>(
  ops: Ops<T>,
  cfg: MaskDecoderConfig,
  inputs: MaskDecoderInputs<T>,
  variant: DecoderVariant<T> = {},
): DecoderTokenOutputs<T> {
  const { imageEmbeddings, imagePe, sparse, dense } = inputs;
  const ss = ops.shape(sparse);
  const es = ops.shape(imageEmbeddings);
  const ds = ops.shape(dense);
  const c = cfg.transformerDim;
  const b = ss[0] as number;
  if (ss.length !== 3 || ss[2] !== c || b < 0) {
    throw new MaskDecoderShapeError(`predictMasks(sparse): expected [B,N,${c}] with a static B, got [${ss.join(',')}]`);
  }
  if (es.length !== 4 || es[1] !== c || (es[0] !== 1 && es[0] !== b)) {
    throw new MaskDecoderShapeError(
      `predictMasks(imageEmbeddings): expected [1,${c},H,W] or [${b},${c},H,W], got [${es.join(',')}]`,
    );
  }
  if (ds.length !== 4 || (ds[0] !== b && ds[0] !== 1) || ds[1] !== c || ds[2] !== es[2] || ds[3] !== es[3]) {
    throw new MaskDecoderShapeError(
      `predictMasks(dense): expected [${b}|1,${c},${es[2]},${es[3]}], got [${ds.join(',')}]`,
    );
  }
  const src = ops.add(imageEmbeddings, dense); // [B,C,h,w]: one image broadcast to every prompt
  const p = new ParamScope(ops, MASK_DECODER_PREFIX);
  return decodeTokens(
    ops,
    cfg,
    sparse,
    [es[2] as number, es[3] as number],
    (tokens) => twoWayTransformer(p.child('transformer'), cfg, src, imagePe, tokens),
    {},
    variant,
  );
}

/**
 * The prompt-independent part of the decoder for one image embedding and one dense embedding
 * shared by every prompt (no mask input): the transformer's `TransformerImageSide` of
 * `imageEmbeddings + dense` with block 0's image-side projections. Compute it once per image, then
 * `predictMasksOnImageSide` per prompt (the same values as `predictMasks`).
 * @param imageEmbeddings `[1,C,h,w]`; `imagePe` `[1,C,h,w]`; `dense` `[1,C,h,w]`
 * @returns `keys`/`keyPe` `[1,h*w,C]`, `block0` projections `[1,h*w,C/downsample]`
 */
export function maskDecoderImageSide<T>(
  ops: Ops<T>,
  cfg: MaskDecoderConfig,
  inputs: Pick<MaskDecoderInputs<T>, 'imageEmbeddings' | 'imagePe' | 'dense'>,
): Required<TransformerImageSide<T>> {
  const src = ops.add(inputs.imageEmbeddings, inputs.dense);
  const flat = flattenImageSide(ops, cfg, src, inputs.imagePe);
  const p = new ParamScope(ops, MASK_DECODER_PREFIX).child('transformer');
  return { ...flat, block0: transformerImageProjections(p, flat) };
}

/**
 * `predictMasks` from `maskDecoderImageSide`'s outputs and the sparse prompt `[B,N',C]`.
 * @param size `(h,w)` of the embedding grid (64,64)
 * @param plan how to record it (`DecoderPlan`)
 * @returns masks `[B,M+1,4h,4w]` (or `[B,end-start,4h,4w]` with `plan.maskTokens`), iou `[B,M+1]`
 */
export function predictMasksOnImageSide<T>(
  ops: Ops<T>,
  cfg: MaskDecoderConfig,
  side: TransformerImageSide<T>,
  sparse: T,
  size: readonly [number, number],
  plan: DecoderPlan<T> = {},
  variant: DecoderVariant<T> = {},
): DecoderTokenOutputs<T> {
  const ss = ops.shape(sparse);
  const c = cfg.transformerDim;
  if (ss.length !== 3 || ss[2] !== c || (ss[0] as number) < 0) {
    throw new MaskDecoderShapeError(
      `predictMasksOnImageSide(sparse): expected [B,N,${c}] with a static B, got [${ss.join(',')}]`,
    );
  }
  const p = new ParamScope(ops, MASK_DECODER_PREFIX);
  return decodeTokens(
    ops,
    cfg,
    sparse,
    size,
    (tokens) => twoWayTransformerOnImageSide(p.child('transformer'), cfg, side, tokens, plan),
    plan,
    variant,
  );
}

/**
 * The mask head after the transformer: upscales the processed image `keys [B,h*w,C]` (the
 * `output_upscaling` convs at `up`) and dots it with `hyperIn [B,M+1,C/8]`.
 * @returns masks `[B,M+1,4h,4w]` logits
 */
export type MaskUpscaler<T> = (up: ParamScope<T>, keys: T, hyperIn: T, size: readonly [number, number, number]) => T;

/**
 * The official `MaskUpscaler`: NCHW `ConvTranspose2d`, `LayerNorm2d`, GELU, then the matmul.
 * With `highRes` (SAM 2's `use_high_res_features`: `[feat_s0 [1|B,C/8,4h,4w], feat_s1
 * [1|B,C/4,2h,2w]]`), each deconvolution's output is summed with the level of its size before the
 * norm / activation: `GELU(LN2d(dc1(src) + s1))`, then `GELU(dc2(·) + s0)`.
 */
export function upscaleMasks<T>(
  up: ParamScope<T>,
  keys: T,
  hyperIn: T,
  [b, h, w]: readonly [number, number, number],
  highRes?: readonly [T, T],
): T {
  const { ops } = up;
  const c = ops.shape(keys)[2] as number;
  const m = ops.shape(hyperIn)[1] as number;
  const skip = (x: T, level: 0 | 1): T => (highRes ? ops.add(x, highRes[level]) : x);
  // Upscale the image features: [B,C,h,w] -> [B,C/8,4h,4w].
  const srcMap = ops.reshape(ops.transpose(keys, [0, 2, 1]), [b, c, h, w]);
  let x = skip(ops.convTranspose2d(srcMap, up.child(0).get('weight'), up.child(0).get('bias'), 2), 1);
  x = ops.gelu(layerNorm2d(up.child(1), x));
  x = ops.gelu(skip(ops.convTranspose2d(x, up.child(3).get('weight'), up.child(3).get('bias'), 2), 0));
  const flat = ops.reshape(x, [b, c / 8, 16 * h * w]);
  return ops.reshape(ops.matmul(hyperIn, flat), [b, m, 4 * h, 4 * w]);
}

/**
 * Where a decoder differs from SAM 1's in its output tokens and heads (SAM 2 sets these); the
 * default is SAM 1's decoder.
 * - `leadingTokens`: learned tokens placed before `iou_token` (SAM 2: `['obj_score_token']`), so the
 *   token order is `[leading…, iou_token, mask_tokens…, sparse…]`;
 * - `iouSigmoid`: the IoU head ends in a sigmoid (SAM 2's `iou_prediction_use_sigmoid`);
 * - `upscale`: the mask head (SAM 2: `upscaleMasks` with its high-resolution features).
 */
export interface DecoderVariant<T> {
  readonly leadingTokens?: readonly string[];
  readonly iouSigmoid?: boolean;
  readonly upscale?: MaskUpscaler<T>;
}

/** `MaskDecoderOutputs` and the transformer's processed tokens `hs [B,T,C]` (for extra heads). */
export interface DecoderTokenOutputs<T> extends MaskDecoderOutputs<T> {
  readonly tokens: T;
}

/** Tokens -> transformer (`transform`) -> upscaled masks and IoU (the rest of `predictMasks`). */
function decodeTokens<T>(
  ops: Ops<T>,
  cfg: MaskDecoderConfig,
  sparse: T,
  [h, w]: readonly [number, number],
  transform: (tokens: T) => TwoWayState<T>,
  plan: DecoderPlan<T> = {},
  variant: DecoderVariant<T> = {},
): DecoderTokenOutputs<T> {
  const c = cfg.transformerDim;
  const b = ops.shape(sparse)[0] as number;
  const p = new ParamScope(ops, MASK_DECODER_PREFIX);
  const numMaskTokens = cfg.numMultimaskOutputs + 1;
  const leading = variant.leadingTokens ?? [];
  const s = leading.length; // index of iou_token

  const learned = [...leading, 'iou_token'].map((name) => p.get(`${name}.weight`));
  const outputTokens = ops.reshape(ops.concat([...learned, p.get('mask_tokens.weight')], 0), [
    1,
    s + 1 + numMaskTokens,
    c,
  ]);
  const tokens = ops.concat([broadcastBatch(ops, outputTokens, b), sparse], 1);

  const { queries: hs, keys } = transform(tokens);
  const iouTokenOut = ops.slice(hs, 1, s, s + 1); // [B,1,C]

  const hyper: T[] = [];
  const [first, end] = plan.maskTokens ?? [0, numMaskTokens];
  for (let i = first; i < end; i++) {
    const token = ops.slice(hs, 1, s + 1 + i, s + 2 + i); // [B,1,C]
    hyper.push(mlp(p.child('output_hypernetworks_mlps').child(i), token, 3)); // [B,1,C/8]
  }
  const hyperIn = ops.concat(hyper, 1); // [B,M+1,C/8]
  // The variant's head defines the values (a plan's faster head knows no high-res features).
  const upscale = variant.upscale ?? plan.upscale ?? upscaleMasks;
  const masks = upscale(p.child('output_upscaling'), keys, hyperIn, [b, h, w]);

  const iouHead = mlp(p.child('iou_prediction_head'), iouTokenOut, cfg.iouHeadDepth, variant.iouSigmoid === true);
  const iou = ops.reshape(iouHead, [b, numMaskTokens]);
  return { masks, iou, tokens: hs };
}

/**
 * Official `MaskDecoder.forward`: `predictMasks`, then with `multimaskOutput` the masks of tokens
 * 1..M (M = `numMultimaskOutputs`, 3), else token 0 only.
 * Returns masks `[B, M|1, 256, 256]` (logits) and iou `[B, M|1]`.
 */
export function maskDecoder<T>(
  ops: Ops<T>,
  cfg: MaskDecoderConfig,
  inputs: MaskDecoderInputs<T> & { readonly multimaskOutput: boolean },
): MaskDecoderOutputs<T> {
  const all = predictMasks(ops, cfg, inputs);
  const [start, end] = inputs.multimaskOutput ? [1, cfg.numMultimaskOutputs + 1] : [0, 1];
  return { masks: ops.slice(all.masks, 1, start, end), iou: ops.slice(all.iou, 1, start, end) };
}
