/**
 * What every ORT-backed tfjs kernel shares: the session cache, the size thresholds below which the
 * stock wasm kernel is kept, and per-kernel counters of which path ran.
 */
import type { KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { SessionCache } from '@samtune/onnx';

/** The kernels `installOrtKernels` can replace. */
export const ORT_KERNEL_NAMES = ['BatchMatMul', '_FusedMatMul', 'Sum', 'Tile', 'Transpose'] as const;
export type OrtKernelName = (typeof ORT_KERNEL_NAMES)[number];

/** How often a kernel ran on ORT and how often it fell back to the stock wasm kernel. */
export interface OrtKernelCounts {
  ort: number;
  fallback: number;
}

/** Thresholds (inclusive lower bounds) for taking the ORT path; below them the stock kernel runs. */
export interface OrtThresholds {
  /** Multiply-adds (batch * M * N * K) of a matmul without transposes. */
  readonly minMatMulMacs: number;
  /** Multiply-adds of a matmul with transposeA or transposeB (the stock kernel is slow on these). */
  readonly minTransposedMatMulMacs: number;
  /** Input elements of a Sum. */
  readonly minSumElements: number;
  /** Output elements of a Tile. */
  readonly minTileElements: number;
  /** Elements of a Transpose. */
  readonly minTransposeElements: number;
  /** Rank of a Transpose after dropping size-1 dims and merging dims that stay adjacent. */
  readonly minTransposeRank: number;
}

/** The arguments tfjs passes to a kernel function. */
export interface KernelArgs {
  readonly inputs: NamedTensorInfoMap;
  readonly backend: unknown;
  readonly attrs?: NamedAttrMap;
}

/** Shared state of one `installOrtKernels` installation. */
export interface OrtKernelContext {
  readonly sessions: SessionCache;
  readonly thresholds: OrtThresholds;
  readonly counts: Record<OrtKernelName, OrtKernelCounts>;
}

/** An ORT kernel body: returns the output, or undefined to let the stock kernel run instead. */
export type OrtKernelBody = (ctx: OrtKernelContext, args: KernelArgs) => TensorInfo | undefined;

/** Wraps an ORT body into a tfjs `KernelFunc` that falls back to `stock` when the body declines. */
export function withFallback(
  name: OrtKernelName,
  ctx: OrtKernelContext,
  body: OrtKernelBody,
  stock: KernelFunc,
): KernelFunc {
  const counts = ctx.counts[name];
  return ((args: KernelArgs) => {
    const out = body(ctx, args);
    if (out) {
      counts.ort++;
      return out;
    }
    counts.fallback++;
    return stock(args as Parameters<KernelFunc>[0]);
  }) as KernelFunc;
}
