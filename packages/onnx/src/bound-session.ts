/**
 * `BoundOrtSession`: a whole ONNX model (bytes, e.g. `OnnxGraphBuilder.toModelBytes()`) on the
 * onnxruntime-node native binding, run synchronously with caller-owned input AND output memory
 * (ORT's pre-allocated outputs: results are written straight into the given typed arrays).
 * Tensor handles are made once (`tensor()`) over long-lived buffers and reused on every `run`: inputs
 * are read in place. Outputs are written in place too, but onnxruntime-node 1.30's binding then ALSO
 * copies every output into a fresh ArrayBuffer that `run` drops (measured: a 32 MB output costs a
 * 1.3 ms kernel and ~45 ms of copy, page faults and GC at load ~10), so output bytes are the cost to
 * keep small: the training step outputs 16 MB of gradients per micro-batch and Adam 48 MB per step.
 */
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import { OrtBindingError, loadBinding, type NativeSession } from './sync-session.js';

/** Session settings of a bound session. */
export interface BoundSessionOptions {
  /** ORT intra-op threads; undefined = ORT's default (one per physical core). */
  readonly intraOpThreads?: number;
  /** Let idle intra-op threads spin-wait (ORT's default true). */
  readonly spinning?: boolean;
  /** Graph optimisation level. Default `'all'`. */
  readonly graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** ORT's CPU memory arena (default false: memory goes back after each run). */
  readonly cpuMemArena?: boolean;
  /** Write an ORT profile (chrome trace JSON) with this file prefix; `endProfiling()` flushes it. */
  readonly profilePrefix?: string;
  /** Name used in error messages. */
  readonly label?: string;
}

/** An ORT tensor over caller-owned memory (`data` is a view: ORT reads and writes it in place). */
export type BoundTensor = OrtTensor;

interface NativeBoundSession extends NativeSession {
  endProfiling(): void;
  readonly inputMetadata: readonly { readonly name: string }[];
  readonly outputMetadata: readonly { readonly name: string }[];
}

/**
 * A tensor handle over `data` (not copied) with `dims`, usable with every `BoundOrtSession`; make it
 * once per long-lived buffer and reuse it across runs.
 */
export function boundTensor(data: Float32Array | BigInt64Array, dims: readonly number[]): BoundTensor {
  const { Tensor } = loadBinding();
  return data instanceof BigInt64Array ? new Tensor('int64', data, dims) : new Tensor('float32', data, dims);
}

/** One native ORT session over a whole model, run synchronously into pre-allocated outputs. */
export class BoundOrtSession {
  readonly label: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private native: NativeBoundSession | undefined;

  /** Loads `model` (ONNX protobuf bytes). Throws `OrtBindingError` with ORT's message when it cannot. */
  constructor(model: Uint8Array, options: BoundSessionOptions = {}) {
    const { binding } = loadBinding();
    this.label = options.label ?? 'model';
    const native = new (binding.InferenceSession as unknown as new () => NativeBoundSession)();
    const so: Record<string, unknown> = {
      graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
      executionMode: 'sequential',
      // no CPU arena: the training graphs' activations are freed after each run instead of kept
      // in a growing arena (peak RSS of a training run)
      enableCpuMemArena: options.cpuMemArena ?? false,
    };
    if (options.intraOpThreads !== undefined) so.intraOpNumThreads = options.intraOpThreads;
    if (options.spinning !== undefined)
      so.extra = { session: { intra_op: { allow_spinning: options.spinning ? '1' : '0' } } };
    if (options.profilePrefix !== undefined) {
      so.enableProfiling = true;
      so.profileFilePrefix = options.profilePrefix;
    }
    try {
      native.loadModel(model.buffer, model.byteOffset, model.byteLength, so);
    } catch (err) {
      throw new OrtBindingError(
        `new BoundOrtSession(model): ORT could not load '${this.label}' (${model.byteLength} bytes): ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    this.native = native;
    this.inputNames = native.inputMetadata.map((m) => m.name);
    this.outputNames = native.outputMetadata.map((m) => m.name);
  }

  /** A tensor handle over `data` (not copied) with `dims`; see `boundTensor`. */
  tensor(data: Float32Array | BigInt64Array, dims: readonly number[]): BoundTensor {
    return boundTensor(data, dims);
  }

  /**
   * Runs the model: every input in `feeds`, every wanted output in `fetches` (pre-allocated, exact
   * sizes; ORT fails on a mismatch). Outputs left out are not computed unless needed.
   */
  run(feeds: Readonly<Record<string, BoundTensor>>, fetches: Readonly<Record<string, BoundTensor>>): void {
    const native = this.native;
    if (!native) throw new OrtBindingError(`BoundOrtSession.run(): the '${this.label}' session was disposed`);
    try {
      native.run(feeds as Record<string, OrtTensor>, fetches as Record<string, OrtTensor>, {});
    } catch (err) {
      throw new OrtBindingError(
        `BoundOrtSession.run(): '${this.label}' failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  /** Writes the profile file (sessions created with `profilePrefix`). */
  endProfiling(): void {
    this.native?.endProfiling();
  }

  /** Releases the native session; later `run` calls throw. */
  dispose(): void {
    this.native?.dispose();
    this.native = undefined;
  }
}
