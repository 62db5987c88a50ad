/**
 * Synchronous onnxruntime-node sessions for tfjs kernels. The public `InferenceSession.run` of
 * onnxruntime-node is async only because it wraps the native `run` in `setImmediate`; a tfjs kernel
 * must return synchronously, so this module talks to the native binding
 * (`onnxruntime-node/dist/binding`) directly: `new binding.InferenceSession()`, `loadModel(bytes)`,
 * `run(feeds, fetches, runOptions)`. Fetches given as tensors are pre-allocated outputs: ORT writes
 * the result straight into their memory (a view on the tfjs wasm heap); onnxruntime-node 1.30's
 * binding also returns a copy of each output, which `run` drops (see `BoundOrtSession`).
 */
import { createRequire } from 'node:module';
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import type { SmallModelSpec } from './small-model.js';
import { encodeSmallModel } from './small-model.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

const require = createRequire(import.meta.url);

/** Thrown when the onnxruntime-node native binding cannot be loaded or a session cannot be built. */
export class OrtBindingError extends SamtuneError {
  readonly code: string = 'ort-binding';
  readonly kind: ErrorKind = 'internal';
}

/** The native binding's session (onnxruntime-node/dist/binding), as the sync sessions use it. */
export interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(
    feeds: Record<string, OrtTensor>,
    fetches: Record<string, OrtTensor | null>,
    options: object,
  ): Record<string, unknown>;
  dispose(): void;
}

interface NativeBindingModule {
  binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}

type OrtTensorCtor = new (
  type: 'float32' | 'int64',
  data: Float32Array | BigInt64Array,
  dims: readonly number[],
) => OrtTensor;

let loaded: { binding: NativeBindingModule['binding']; Tensor: OrtTensorCtor } | undefined;

/** Loads (once) onnxruntime-node's native binding; throws `OrtBindingError` when it cannot load. */
export function loadBinding(): NonNullable<typeof loaded> {
  if (loaded) return loaded;
  try {
    const mod = require('onnxruntime-node/dist/binding') as NativeBindingModule;
    const { Tensor } = require('onnxruntime-node') as { Tensor: OrtTensorCtor };
    mod.initOrt();
    loaded = { binding: mod.binding, Tensor };
    return loaded;
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new OrtBindingError(
      `loadBinding(): onnxruntime-node's native binding (onnxruntime-node/dist/binding) could not be loaded: ${why}`,
    );
  }
}

/** ORT session settings for the kernels. */
export interface OrtSessionOptions {
  /** ORT intra-op threads; undefined = ORT's default (one per physical core). */
  readonly intraOpThreads?: number;
  /**
   * Let idle intra-op threads spin-wait for the next call (ORT's default, `true`). Spinning lowers
   * latency on an idle machine but burns the cores that tfjs (and other processes) need.
   */
  readonly spinning?: boolean;
}

/** A float32 tensor description for `SyncOrtSession.run`: data (a view, not copied) and dims. */
export interface OrtFeed {
  readonly data: Float32Array | BigInt64Array;
  readonly dims: readonly number[];
}

/** One native ORT session that runs synchronously, writing its outputs into caller-owned memory. */
export class SyncOrtSession {
  private native: NativeSession | undefined;
  private readonly Tensor: OrtTensorCtor;

  /** Builds the session from a graph spec (see `encodeSmallModel`). */
  constructor(
    readonly spec: SmallModelSpec,
    options: OrtSessionOptions = {},
  ) {
    const { binding, Tensor } = loadBinding();
    this.Tensor = Tensor;
    const bytes = encodeSmallModel(spec);
    const native = new binding.InferenceSession();
    const sessionOptions: Record<string, unknown> = { graphOptimizationLevel: 'all', executionMode: 'sequential' };
    if (options.intraOpThreads !== undefined) sessionOptions.intraOpNumThreads = options.intraOpThreads;
    // `extra` keys become ORT session config entries ("session.intra_op.allow_spinning")
    if (options.spinning !== undefined)
      sessionOptions.extra = { session: { intra_op: { allow_spinning: options.spinning ? '1' : '0' } } };
    try {
      native.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, sessionOptions);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      const ops = spec.nodes.map((n) => n.opType).join('+');
      throw new OrtBindingError(`SyncOrtSession(spec): ORT could not load the ${ops} graph: ${why}`);
    }
    this.native = native;
  }

  private tensor(f: OrtFeed): OrtTensor {
    return f.data instanceof BigInt64Array
      ? new this.Tensor('int64', f.data, f.dims)
      : new this.Tensor('float32', f.data, f.dims);
  }

  /**
   * Runs the graph synchronously. `inputs` and `outputs` are keyed by graph value name; output
   * `data` must already have the exact size of the result (ORT fails on a mismatch).
   */
  run(inputs: Readonly<Record<string, OrtFeed>>, outputs: Readonly<Record<string, OrtFeed>>): void {
    const native = this.native;
    if (!native)
      throw new OrtBindingError(
        `SyncOrtSession.run(): the ${this.spec.nodes.map((n) => n.opType).join('+')} session was disposed`,
      );
    const feeds: Record<string, OrtTensor> = {};
    for (const [name, f] of Object.entries(inputs)) feeds[name] = this.tensor(f);
    const fetches: Record<string, OrtTensor> = {};
    for (const [name, f] of Object.entries(outputs)) fetches[name] = this.tensor(f);
    native.run(feeds, fetches, {});
  }

  /** Releases the native session; later `run` calls throw. */
  dispose(): void {
    this.native?.dispose();
    this.native = undefined;
  }
}

/** Lazily built sessions by key (e.g. one per transpose combination). */
export class SessionCache {
  private readonly sessions = new Map<string, SyncOrtSession>();

  constructor(private readonly options: OrtSessionOptions = {}) {}

  /** The session for `key`, built from `spec()` on first use. */
  get(key: string, spec: () => SmallModelSpec): SyncOrtSession {
    let s = this.sessions.get(key);
    if (!s) {
      s = new SyncOrtSession(spec(), this.options);
      this.sessions.set(key, s);
    }
    return s;
  }

  /** How many sessions were built. */
  get size(): number {
    return this.sessions.size;
  }

  /** Disposes every session. */
  dispose(): void {
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
  }
}

/** The installed onnxruntime-node version (for benchmark and report headers). */
export function ortVersion(): string {
  return (require('onnxruntime-node/package.json') as { version: string }).version;
}
