/**
 * Faster tfjs-wasm training on CPU: re-registers the wasm backend's `BatchMatMul`, `_FusedMatMul`,
 * `Sum`, `Tile` and (high-rank) `Transpose` kernels so that they run on onnxruntime-node (MLAS,
 * multi-threaded) synchronously, reading and writing tfjs tensors in place on the wasm heap.
 * tfjs-wasm runs single-threaded under Node and its matmul is slow with transposed operands; ORT's
 * GEMM is ~10-50x faster on the SAM decoder's products. Gradients need nothing extra: tfjs
 * differentiates BatchMatMul with BatchMatMul (and Transpose with Transpose, Tile and broadcasts
 * with Sum), so the backward pass takes the same kernels.
 *
 * Small ops stay on the stock kernel (an ORT call costs ~10 µs, which dominates tiny products); the
 * thresholds are options. Results agree with the stock kernels to float32 rounding (summation order
 * differs); batch broadcasting follows numpy fully (the stock kernels flatten batch dims and get
 * `[2,1,..] x [3,..]` wrong), and `_FusedMatMul` adds its bias correctly (the stock wasm kernel of
 * tfjs 4.22 does not for rows after the first).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import type {
  OrtKernelBody,
  OrtKernelContext,
  OrtKernelCounts,
  OrtKernelName,
  OrtThresholds,
} from './tfjs-ort-kernel-context.js';
import { ORT_KERNEL_NAMES, withFallback } from './tfjs-ort-kernel-context.js';
import { ortBatchMatMul, ortFusedMatMul } from './tfjs-ort-matmul.js';
import { ortSum, ortTile } from './tfjs-ort-reduce.js';
import { ortTranspose } from './tfjs-ort-transpose.js';
import { loadBinding, SessionCache } from '@samtune/onnx';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

export {
  ORT_KERNEL_NAMES,
  type OrtKernelCounts,
  type OrtKernelName,
  type OrtThresholds,
} from './tfjs-ort-kernel-context.js';
export { OrtBindingError } from '@samtune/onnx';

/** Options of `installOrtKernels`. */
export interface OrtKernelsOptions {
  /** Which kernels to replace (default: all of `ORT_KERNEL_NAMES`). */
  readonly kernels?: readonly OrtKernelName[];
  /** ORT intra-op threads (default: ORT's choice, one per physical core). */
  readonly intraOpThreads?: number;
  /**
   * Whether idle ORT threads spin-wait between calls (default false: measured faster for a whole
   * decoder training step on a 2-core machine, where spinning threads compete with tfjs' own thread).
   */
  readonly spinning?: boolean;
  /** Size thresholds below which the stock kernel runs (defaults: `DEFAULT_ORT_THRESHOLDS`). */
  readonly thresholds?: Partial<OrtThresholds>;
}

/**
 * Default thresholds, measured on a 2-core AMD EPYC (kernel microbenchmarks, medians of 200 calls):
 * an ORT call costs ~10 µs from tfjs. The stock wasm matmul is fast without transposes for small
 * products (break-even ~130k multiply-adds) but slow with a transpose (break-even ~15k); the stock
 * Sum is fast over innermost axes (break-even ~16k elements), the stock Tile is slow at any size,
 * and the stock Transpose is fast up to rank 4 but ~15x slower than ORT from rank 5 on.
 */
export const DEFAULT_ORT_THRESHOLDS: OrtThresholds = {
  minMatMulMacs: 131_072,
  minTransposedMatMulMacs: 16_384,
  minSumElements: 16_384,
  minTileElements: 1_024,
  minTransposeElements: 4_096,
  minTransposeRank: 5,
};

/** The result of `installOrtKernels`. */
export interface OrtKernelsHandle {
  /** False when nothing was installed (the active backend is not 'wasm'); see `reason`. */
  readonly installed: boolean;
  /** Why nothing was installed, when `installed` is false. */
  readonly reason?: string;
  /** Calls per kernel that ran on ORT / fell back to the stock kernel, since installation. */
  counts(): Readonly<Record<OrtKernelName, Readonly<OrtKernelCounts>>>;
  /** Restores the stock kernels and releases the ORT sessions. Idempotent. */
  uninstall(): void;
}

/** Thrown when kernels are installed twice without `uninstall`, or an option is invalid. */
export class OrtKernelsInstallError extends SamtuneError {
  readonly code: string = 'ort-kernels-install';
  readonly kind: ErrorKind = 'internal';
}

const BODIES: Record<OrtKernelName, OrtKernelBody> = {
  BatchMatMul: ortBatchMatMul,
  _FusedMatMul: ortFusedMatMul,
  Sum: ortSum,
  Tile: ortTile,
  Transpose: ortTranspose,
};

let active = false;

function zeroCounts(): Record<OrtKernelName, OrtKernelCounts> {
  return Object.fromEntries(ORT_KERNEL_NAMES.map((n) => [n, { ort: 0, fallback: 0 }])) as Record<
    OrtKernelName,
    OrtKernelCounts
  >;
}

/**
 * Replaces the wasm backend's BatchMatMul/_FusedMatMul/Sum/Tile/Transpose kernels by ORT-backed
 * ones (see the module comment). Requires the active tfjs backend to be 'wasm' and initialised
 * (`await initBackend('wasm')` or `tf.setBackend('wasm')`); otherwise returns a handle with
 * `installed: false`. Throws `OrtKernelsInstallError` when already installed or for an unknown
 * kernel name, and `OrtBindingError` when onnxruntime-node's native binding cannot load.
 */
export function installOrtKernels(options: OrtKernelsOptions = {}): OrtKernelsHandle {
  const counts = zeroCounts();
  const backendName = tf.getBackend();
  if (backendName !== 'wasm') {
    return {
      installed: false,
      reason: `installOrtKernels(): the active tfjs backend is '${backendName}', expected 'wasm'`,
      counts: () => counts,
      uninstall: () => {},
    };
  }
  if (active)
    throw new OrtKernelsInstallError(
      'installOrtKernels(): ORT kernels are already installed; call uninstall() on the earlier handle first',
    );
  const names = options.kernels ?? ORT_KERNEL_NAMES;
  for (const n of names) {
    if (!ORT_KERNEL_NAMES.includes(n))
      throw new OrtKernelsInstallError(
        `installOrtKernels(options.kernels): unknown kernel '${String(n)}', expected one of ${ORT_KERNEL_NAMES.join(', ')}`,
      );
  }
  loadBinding(); // fail here, not in the middle of a training step, when onnxruntime-node cannot load
  const thresholds: OrtThresholds = { ...DEFAULT_ORT_THRESHOLDS, ...options.thresholds };
  const sessions = new SessionCache({
    ...(options.intraOpThreads === undefined ? {} : { intraOpThreads: options.intraOpThreads }),
    spinning: options.spinning ?? false,
  });
  const ctx: OrtKernelContext = { sessions, thresholds, counts };
  const originals: KernelConfig[] = [];
  for (const name of names) {
    const stock = tf.getKernel(name, 'wasm');
    if (!stock) continue;
    originals.push(stock);
    tf.unregisterKernel(name, 'wasm');
    // keep the stock setup/dispose hooks: a re-created wasm backend re-runs setupFunc, which re-binds
    // the stock kernel that the fallback path calls
    tf.registerKernel({ ...stock, kernelFunc: withFallback(name, ctx, BODIES[name], stock.kernelFunc as KernelFunc) });
  }
  active = true;
  let done = false;
  return {
    installed: true,
    counts: () => counts,
    uninstall: () => {
      if (done) return;
      done = true;
      for (const stock of originals) {
        tf.unregisterKernel(stock.kernelName, 'wasm');
        tf.registerKernel(stock);
      }
      sessions.dispose();
      active = false;
    },
  };
}
