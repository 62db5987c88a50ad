/**
 * The narrow op interface every SAM layer is written against, once.
 *
 * Two executors implement it:
 * - `TfjsOps` (eager, differentiable): the prompt encoder and mask decoder for training and prediction.
 * - `OnnxGraphOps` (symbolic): records an ONNX graph; the image encoder runs on onnxruntime-node and
 *   the export package writes decoders with it.
 *
 * Conventions (torch's, so checkpoint tensors are used as stored):
 * - images and feature maps are NCHW `[B,C,H,W]`; conv weights OIHW `[out,in/groups,kh,kw]`;
 *   linear weights `[out,in]`; ConvTranspose weights `[in,out,kh,kw]`.
 * - element-wise ops broadcast like numpy.
 * - shapes are static numbers; `-1` marks a dimension known only at run time (the ONNX executor's
 *   dynamic axes, e.g. the number of prompt points N). `reshape` takes at most one `-1`.
 * - all tensors are float32.
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';
export interface Conv2dOptions {
  /** Stride (same for H and W). Default 1. */
  stride?: number;
  /** Zero padding on every side, in pixels. Default 0. */
  pad?: number;
  /** Groups (C_in for depthwise). Default 1. */
  groups?: number;
}

export interface Ops<T> {
  /** Executor name, for messages: `'tfjs'`, `'onnx'`. */
  readonly kind: string;

  /**
   * The weight with this key from the executor's weight map (e.g. `mask_decoder.iou_token.weight`,
   * or a derived key produced by a component's `prepare…Weights`). Throws `MissingWeightError`.
   */
  param(key: string): T;
  /** Whether the weight map has `key` (optional biases). */
  hasParam(key: string): boolean;
  /** A constant computed at build time (frozen tables, grids). `name` helps debugging/ONNX names. */
  constant(data: Float32Array, shape: readonly number[], name?: string): T;
  /** Static shape; `-1` for dynamic dims. */
  shape(x: T): number[];

  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  /** `x * s` for a number `s`. */
  scale(x: T, s: number): T;
  /** `x + s` for a number `s`. */
  addScalar(x: T, s: number): T;
  /** 1.0 where `x == value`, else 0.0 (for prompt labels). */
  equalScalar(x: T, value: number): T;

  /** Batched matmul `[...,M,K] x [...,K,N] -> [...,M,N]`, leading dims broadcast; `transposeB` uses `[...,N,K]`. */
  matmul(a: T, b: T, transposeB?: boolean): T;
  /** `x [...,in]` times `weight [out,in]` transposed, plus `bias [out]`: torch `nn.Linear`. */
  linear(x: T, weight: T, bias?: T): T;
  /** torch `nn.Conv2d`: `x [B,Cin,H,W]`, `weight [Cout,Cin/groups,kh,kw]`, `bias [Cout]`. */
  conv2d(x: T, weight: T, bias: T | undefined, opts?: Conv2dOptions): T;
  /**
   * torch `nn.ConvTranspose2d` with kernel size == stride and no padding (SAM's upscaling):
   * `x [B,Cin,H,W]`, `weight [Cin,Cout,k,k]`, `bias [Cout]` -> `[B,Cout,H*k,W*k]`.
   * (The tfjs executor computes it as matmul + reshape, which trains on every backend.)
   */
  convTranspose2d(x: T, weight: T, bias: T | undefined, stride: number): T;

  reshape(x: T, shape: readonly number[]): T;
  transpose(x: T, perm: readonly number[]): T;
  concat(xs: readonly T[], axis: number): T;
  /** `x[..., start:end, ...]` on one axis (negative axis counts from the end). */
  slice(x: T, axis: number, start: number, end: number): T;
  /** Zero padding: `pads[i] = [before, after]` for axis i; `pads.length === rank`. */
  pad(x: T, pads: readonly (readonly [number, number])[]): T;

  /** Softmax over the last axis. */
  softmax(x: T): T;
  /** LayerNorm over the last axis: `(x-mean)/sqrt(var+eps)*weight+bias`. */
  layerNorm(x: T, weight: T, bias: T, eps: number): T;
  /** Exact GELU `0.5*x*(1+erf(x/sqrt(2)))` (torch default). */
  gelu(x: T): T;
  relu(x: T): T;
  sigmoid(x: T): T;
  sin(x: T): T;
  cos(x: T): T;
  /**
   * Bilinear resize of `x [B,C,H,W]` to `[B,C,h,w]`, torch `F.interpolate(mode='bilinear',
   * align_corners=False)` without antialiasing (half-pixel centres).
   */
  resizeBilinear(x: T, size: readonly [number, number]): T;
}

/**
 * `Ops` plus what the training math needs (the loss of `@samtune/losses`, Adam): reductions,
 * `softplus`, `sqrt`, powers, and the two constant selections (a threshold, the index of a minimum)
 * that carry no gradient. `TfjsOps` executes them eagerly; `OnnxGraphOps` records them (every
 * differentiable one has its rule in `autodiff/gradients/`).
 */
export interface TrainOps<T> extends Ops<T> {
  /** `log(1 + exp(x))`. */
  softplus(x: T): T;
  sqrt(x: T): T;
  /** `x^e` for a number `e` (`x*x` for 2). */
  powScalar(x: T, e: number): T;
  /** Sum over `axis` (dropped). */
  sum(x: T, axis: number): T;
  /** Mean over `axes` (dropped; all of them gives a scalar `[]`). */
  mean(x: T, axes: readonly number[]): T;
  /** 1.0 where `x >= value`, else 0.0: a constant (no gradient flows through it). */
  greaterEqualScalar(x: T, value: number): T;
  /** `[..., M]` one-hot of the index of the minimum along the last axis (the first of ties): a constant. */
  argMinOneHot(x: T): T;
}

/** Thrown by `Ops.param` when a key is missing from the executor's weight map. */
export class MissingWeightError extends SamtuneError {
  readonly code: string = 'missing-weight';
  readonly kind: ErrorKind = 'input';
  constructor(
    readonly executor: string,
    readonly key: string,
  ) {
    super(`${executor}.param(key): no weight '${key}' in the weight map`);
  }
}
